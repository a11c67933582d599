/// An ordered string pair; the Spec's `pair` encoding (key then value).
public struct KeyValue: Hashable, Sendable, Codable {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}
