/// Decides when the writer moves to a new file: the value-type core of `DVICLog`'s rotation, with
/// no I/O, so the rule is tested on its own.
struct RotationPolicy: Sendable, Equatable {
    /// The cap on one file's size.
    let maxBytes: Int
    /// Bytes in the current file, header included.
    private(set) var fileBytes = 0
    /// Records in the current file.
    private(set) var recordCount = 0

    init(maxBytes: Int) {
        self.maxBytes = max(maxBytes, 1)
    }

    /// Whether a record of `byteCount` bytes goes to a new file.
    ///
    /// A file always takes at least one record, however large, so that a record longer than the
    /// cap is written once rather than rotating for ever.
    func shouldRotate(before byteCount: Int) -> Bool {
        recordCount > 0 && fileBytes + byteCount > maxBytes
    }

    mutating func startedFile(headerBytes: Int) {
        fileBytes = headerBytes
        recordCount = 0
    }

    mutating func wrote(_ byteCount: Int) {
        fileBytes += byteCount
        recordCount += 1
    }
}
