extension ThrowingTaskGroup {
    /// The first child's non-nil answer; the other children (stream readers, key readers) are
    /// cancelled then, since they only ever end with the one that decides.
    mutating func firstAnswer<Answer: Sendable>() async throws -> Answer? where ChildTaskResult == Answer? {
        defer { cancelAll() }
        while let result = try await next() {
            if let result { return result }
        }
        return nil
    }
}
