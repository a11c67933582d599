/// Splits the text of /proc and /sys files into lines and fields without building Strings, since
/// the collectors read several of these files every second.
enum TextScanner {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let newline = UInt8(ascii: "\n")

    /// The lines of `bytes`, without their newlines; a final line without one counts too.
    static func lines(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var index = start
        while index < bytes.endIndex {
            if bytes[index] == newline {
                lines.append(bytes[start..<index])
                start = index + 1
            }
            index += 1
        }
        if start < bytes.endIndex { lines.append(bytes[start..<bytes.endIndex]) }
        return lines
    }

    static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] { lines(bytes[...]) }

    /// The fields of a line separated by runs of spaces or tabs.
    static func fields(_ line: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var fields: [ArraySlice<UInt8>] = []
        var index = line.startIndex
        while index < line.endIndex {
            while index < line.endIndex, line[index] == space || line[index] == tab { index += 1 }
            let start = index
            while index < line.endIndex, line[index] != space && line[index] != tab { index += 1 }
            if start < index { fields.append(line[start..<index]) }
        }
        return fields
    }

    /// A decimal unsigned integer filling `field`, or nil.
    static func unsigned(_ field: ArraySlice<UInt8>) -> UInt64? {
        guard !field.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in field {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            let (product, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = product.addingReportingOverflow(UInt64(byte - 0x30))
            guard !overflow1 && !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    /// A decimal integer with an optional sign.
    static func signed(_ field: ArraySlice<UInt8>) -> Int64? {
        guard let first = field.first else { return nil }
        if first == UInt8(ascii: "-") {
            guard let magnitude = unsigned(field.dropFirst()), magnitude <= UInt64(Int64.max) else { return nil }
            return -Int64(magnitude)
        }
        guard let magnitude = unsigned(first == UInt8(ascii: "+") ? field.dropFirst() : field),
            magnitude <= UInt64(Int64.max)
        else { return nil }
        return Int64(magnitude)
    }

    /// A decimal number such as `0.15` or `12345.67`.
    static func double(_ field: ArraySlice<UInt8>) -> Double? {
        Double(string(field))
    }

    static func string(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field, as: UTF8.self)
    }

    /// Whether `line` starts with the ASCII `prefix`.
    static func hasPrefix(_ line: ArraySlice<UInt8>, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard line.count >= count else { return false }
        var index = line.startIndex
        for offset in 0..<count {
            if line[index] != prefix.utf8Start[offset] { return false }
            index += 1
        }
        return true
    }
}
