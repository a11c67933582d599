@testable import DVICStore
import Testing

@Suite("Full-text query words")
struct FullTextQueryTests {
    @Test("only letters and digits survive, as plain words")
    func words() {
        #expect(FullTextQuery("Hello, \"world\" OR NEAR(x*)").words == ["Hello", "world", "OR", "NEAR", "x"])
        #expect(FullTextQuery("\"*^-():'").isEmpty)
        #expect(FullTextQuery("café 日本語 x1").words == ["café", "日本語", "x1"])
        #expect(FullTextQuery(String(repeating: "w ", count: 100)).words.count == FullTextQuery.maximumWords)
        #expect(FullTextQuery(String(repeating: "w", count: 1_000)).words == [String(repeating: "w", count: FullTextQuery.maximumWordLength)])
        #expect(FullTextQuery("a OR b").sqliteMatchExpression == "\"a\" \"OR\" \"b\"")
        #expect(FullTextQuery("a OR b").postgresPlainText == "a OR b")
    }

    @Test("limits are clamped")
    func limits() {
        #expect(LogQuery(limit: 50_000).effectiveLimit == 10_000)
        #expect(LogQuery(limit: -1).effectiveLimit == 0)
        #expect(LogQuery().effectiveLimit == 1_000)
    }
}
