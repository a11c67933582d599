/// The words of a user's full-text search, reduced to letters and digits so that no
/// character of theirs can reach FTS5 or tsquery syntax.
///
/// Both back ends then see only plain words: SQLite gets each one as a quoted FTS5
/// string (`"word"`, which FTS5 never parses as an operator, so `OR`, `NEAR` or `*`
/// are literal), PostgreSQL gets them through `plainto_tsquery`, which has no syntax
/// at all. Splitting here the way the indexes split text (FTS5's unicode61 tokenizer;
/// PostgreSQL's `simple` parser over text with punctuation blanked) keeps the two
/// stores' answers the same.
struct FullTextQuery: Hashable, Sendable {
    /// Bounds the work one search can cause.
    static let maximumWords = 32
    static let maximumWordLength = 128

    let words: [String]

    init(_ text: String) {
        var words: [String] = []
        var current = ""
        func flush() {
            if !current.isEmpty, words.count < Self.maximumWords {
                words.append(String(current.prefix(Self.maximumWordLength)))
            }
            current = ""
        }
        for character in text {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else {
                flush()
            }
        }
        flush()
        self.words = words
    }

    /// True when the text had no letters or digits: such a search matches nothing.
    var isEmpty: Bool {
        self.words.isEmpty
    }

    /// An FTS5 MATCH expression: every word as a string, implicitly ANDed.
    var sqliteMatchExpression: String {
        self.words.map { "\"" + $0.replacing("\"", with: "\"\"") + "\"" }.joined(separator: " ")
    }

    /// Input for `plainto_tsquery('simple', …)`: every word, ANDed by it.
    var postgresPlainText: String {
        self.words.joined(separator: " ")
    }
}
