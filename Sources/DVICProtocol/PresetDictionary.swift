/// The zlib preset dictionaries of Spec/dictionaries/, named by the 2-bit id in a
/// frame's flags.
///
/// A dictionary primes deflate with text that log lines share, so that even a small
/// batch compresses well. A sender uses one only when the peer listed it in its
/// capabilities (`zdict:1`): browsers' DecompressionStream cannot take a dictionary,
/// so the server never sends dictionary frames on `/v1/stream`.
public enum PresetDictionary {
    public static let knownIDs: Set<UInt8> = Set(data.keys)

    public static func bytes(id: UInt8) -> [UInt8]? { data[id] }

    public static var all: [[UInt8]] { data.keys.sorted().compactMap { data[$0] } }

    /// The capability string that announces dictionary `id`.
    public static func capability(id: UInt8) -> String { "zdict:\(id)" }
}
