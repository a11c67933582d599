/// An HTTP/1.1 response read whole (the Docker Engine API answers small JSON documents).
public struct HTTPResponse: Sendable, Hashable {
    public var status: Int
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Parses a complete response (the connection was closed by the server, `Connection: close`):
    /// status line, headers, then a body sized by `Content-Length`, sent `chunked`, or running to
    /// the end. Nil when the bytes are not a complete response.
    public static func parse(_ bytes: [UInt8]) -> HTTPResponse? {
        guard let headerEnd = find([13, 10, 13, 10], in: bytes, from: 0) else { return nil }
        let head = String(decoding: bytes[..<headerEnd], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return nil }
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingASCIIWhitespace()
        }
        let rest = Array(bytes[(headerEnd + 4)...])
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            guard let body = dechunk(rest) else { return nil }
            return HTTPResponse(status: status, headers: headers, body: body)
        }
        if let lengthText = headers["content-length"], let length = Int(lengthText) {
            guard rest.count >= length else { return nil }
            return HTTPResponse(status: status, headers: headers, body: Array(rest.prefix(length)))
        }
        return HTTPResponse(status: status, headers: headers, body: rest)
    }

    static func dechunk(_ bytes: [UInt8]) -> [UInt8]? {
        var body: [UInt8] = []
        var offset = 0
        while true {
            guard let lineEnd = find([13, 10], in: bytes, from: offset) else { return nil }
            let sizeText = String(decoding: bytes[offset..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingASCIIWhitespace(), radix: 16), size >= 0 else { return nil }
            offset = lineEnd + 2
            if size == 0 { return body }
            guard bytes.count - offset >= size + 2 else { return nil }
            body += bytes[offset..<(offset + size)]
            offset += size + 2
        }
    }

    static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        var index = start
        while index + needle.count <= bytes.count {
            if bytes[index] == needle[0] && Array(bytes[index..<(index + needle.count)]) == needle { return index }
            index += 1
        }
        return nil
    }
}
