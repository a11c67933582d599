import DVICLogFormat
import Foundation

/// The demo log files of a directory, parsed.
struct LogFileSet {
    struct File {
        var path: String
        var token: String
        var bytes: [UInt8]
        var header: LogFileHeader?
        var events: [LogFileParser.Event]
        var records: [LogRecord] { events.compactMap(\.record) }
    }

    /// A time no writer stamps: records carrying it are lines the parser could not read.
    static let readTime: Int64 = 0

    var files: [File]

    init(directory: URL) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        files = try names.compactMap { name in
            guard let token = LogFileName.token(fromFileName: name) else { return nil }
            let path = directory.appendingPathComponent(name).path
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            let events = LogFileParser.parse(bytes, now: Self.readTime)
            return File(
                path: path, token: String(token), bytes: bytes, header: events.first?.header,
                events: Array(events.dropFirst()))
        }
    }

    /// The files in rotation order: the one without `prev` first, then each one's successor.
    func chain() -> [File]? {
        guard let first = files.first(where: { $0.header?.prev == nil }) else { return nil }
        var chain = [first]
        while let next = files.first(where: { $0.header?.prev == chain.last!.token }) {
            chain.append(next)
        }
        return chain.count == files.count ? chain : nil
    }
}
