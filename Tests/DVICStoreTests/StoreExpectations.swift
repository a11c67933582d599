import DVICStore
import Testing

/// Expects `body` to throw a `StoreError` with `code`.
func expectStoreError<T>(
    _ code: StoreError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async {
    do {
        _ = try await body()
        Issue.record("expected StoreError(\(code)), got success", sourceLocation: sourceLocation)
    } catch let error as StoreError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected StoreError(\(code)), got \(error)", sourceLocation: sourceLocation)
    }
}

/// Bytes that stand in for a SHA-256 hash in tests.
func hash(_ seed: String) -> [UInt8] {
    var bytes = Array(seed.utf8)
    bytes.append(contentsOf: [UInt8](repeating: 0xA5, count: max(0, 32 - bytes.count)))
    return Array(bytes.prefix(32))
}
