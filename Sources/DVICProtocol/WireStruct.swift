/// A structure with the Spec's field-by-field encoding (Spec/protocol.md, section 4).
public protocol WireStruct: Hashable, Sendable, Codable {
    init(from reader: inout WireReader) throws(ProtocolError)
    func write(to writer: inout WireWriter) throws(ProtocolError)
}

/// A structure that is the whole payload of one frame type.
public protocol WireMessage: WireStruct {
    static var messageType: MessageType { get }
}

extension WireReader {
    public mutating func readList<Element: WireStruct>(_ type: Element.Type) throws(ProtocolError) -> [Element] {
        let count = try readCount()
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try Element(from: &self)) }
        return elements
    }

    public mutating func readVarints() throws(ProtocolError) -> [UInt64] {
        let count = try readCount()
        var values: [UInt64] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try readVarint()) }
        return values
    }
}

extension WireWriter {
    public mutating func writeList<Element: WireStruct>(_ elements: [Element]) throws(ProtocolError) {
        try writeCount(elements.count)
        for element in elements { try element.write(to: &self) }
    }

    public mutating func writeVarints(_ values: [UInt64]) throws(ProtocolError) {
        try writeCount(values.count)
        for value in values { writeVarint(value) }
    }
}
