extension MetricDescriptors {
    /// Reads the list and registers every id in `metrics`.
    public init(from reader: inout WireReader, metrics: inout MetricCodecState) throws(ProtocolError) {
        let descriptors = try reader.readList(MetricDescriptor.self)
        for descriptor in descriptors {
            try Self.validate(descriptor, limits: reader.limits)
        }
        for descriptor in descriptors {
            metrics.describe(id: descriptor.id, scale: Int8(descriptor.scale))
        }
        self.init(descriptors: descriptors)
    }

    public func write(to writer: inout WireWriter, metrics: inout MetricCodecState) throws(ProtocolError) {
        for descriptor in descriptors {
            try Self.validate(descriptor, limits: writer.limits)
        }
        try writer.writeList(descriptors)
        for descriptor in descriptors {
            metrics.describe(id: descriptor.id, scale: Int8(descriptor.scale))
        }
    }

    static func validate(_ descriptor: MetricDescriptor, limits: ProtocolLimits) throws(ProtocolError) {
        guard descriptor.id <= UInt32(limits.maxMetricID) else {
            throw .invalidValue("metric id \(descriptor.id) above \(limits.maxMetricID)")
        }
        guard MetricCodecState.scaleRange.contains(descriptor.scale) else {
            throw .invalidValue("metric scale \(descriptor.scale) outside -9...9")
        }
    }
}
