#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Tags, inventories, metadata and audit details are stored as JSON text in both
/// databases: they are only ever read whole, and one encoding keeps the two stores
/// identical.
enum JSONColumn {
    static func encode(_ value: [String]) -> String {
        Self.encodeValue(value)
    }

    static func encode(_ value: [String: String]) -> String {
        Self.encodeValue(value)
    }

    static func strings(_ text: String, column: String) throws(StoreError) -> [String] {
        try Self.decodeValue([String].self, text, column: column)
    }

    static func dictionary(_ text: String, column: String) throws(StoreError) -> [String: String] {
        try Self.decodeValue([String: String].self, text, column: column)
    }

    private static func encodeValue(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding arrays and dictionaries of strings cannot fail.
        let data = (try? encoder.encode(value)) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    private static func decodeValue<T: Decodable>(_ type: T.Type, _ text: String, column: String) throws(StoreError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw StoreError(code: .corrupt, message: "column \(column) does not hold the JSON expected", cause: error)
        }
    }
}
