extension MetricSample {
    /// Wire layout (Spec/protocol.md, 5.2): `timestamp: time`, `runs: count`, then
    /// per run `firstID: u32`, `count: count` and `count` zigzag deltas for the ids
    /// firstID, firstID+1, …
    public init(from reader: inout WireReader, metrics: inout MetricCodecState) throws(ProtocolError) {
        let timestamp = try reader.readSigned()
        let runCount = try reader.readCount()
        var values: [MetricValue] = []
        for _ in 0..<runCount {
            let firstID = try reader.readUInt32()
            let count = try reader.readCount()
            guard values.count + count <= reader.limits.maxListCount else {
                throw .countTooLarge(UInt64(values.count + count), limit: reader.limits.maxListCount)
            }
            for offset in 0..<count {
                let (id, overflow) = firstID.addingReportingOverflow(UInt32(offset))
                guard !overflow, let scale = metrics.scale(of: id) else { throw .unknownMetric(UInt64(firstID) + UInt64(offset)) }
                let delta = try reader.readSigned()
                // Wrapping: a hostile delta must not trap; the Spec defines modulo 2^64.
                let quantized = metrics.previousValue(of: id) &+ delta
                metrics.setPrevious(quantized, of: id)
                values.append(MetricValue(id: id, value: MetricCodecState.dequantize(quantized, scale: scale)))
            }
        }
        self.init(timestamp: timestamp, values: values)
    }

    /// Non-finite values are left out (a run breaks around them), since the wire has
    /// no way to say NaN and a gap is what a chart should show.
    public func write(to writer: inout WireWriter, metrics: inout MetricCodecState) throws(ProtocolError) {
        for value in values where metrics.scale(of: value.id) == nil {
            throw .unknownMetric(UInt64(value.id))
        }
        let finite = values.filter { $0.value.isFinite }
        guard finite.count <= writer.limits.maxListCount else {
            throw .countTooLarge(UInt64(finite.count), limit: writer.limits.maxListCount)
        }
        writer.writeSigned(timestamp)
        var runs: [Range<Int>] = []
        var start = 0
        for index in finite.indices.dropFirst() where finite[index].id != finite[index - 1].id &+ 1 {
            runs.append(start..<index)
            start = index
        }
        if !finite.isEmpty { runs.append(start..<finite.count) }
        writer.writeVarint(UInt64(runs.count))
        for run in runs {
            writer.writeVarint(finite[run.lowerBound].id)
            writer.writeVarint(UInt64(run.count))
            for value in finite[run] {
                let scale = metrics.scale(of: value.id)!
                let quantized = MetricCodecState.quantize(value.value, scale: scale)
                writer.writeSigned(quantized &- metrics.previousValue(of: value.id))
                metrics.setPrevious(quantized, of: value.id)
            }
        }
    }
}
