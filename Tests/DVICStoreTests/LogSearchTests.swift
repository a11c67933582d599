import DVICStore
import Testing

@Suite("Log search")
struct LogSearchTests {
    /// Texts with punctuation, query syntax and Unicode in them.
    static let texts: [String] = [
        "Connection refused by /usr/sbin/nginx on port 8080",
        "camera frame dropped: fps=12 (target 30)",
        "user said \"hello world\" and left",
        "NEAR(a b) is FTS syntax OR not",
        "it's O'Brien's turn; DROP TABLE logs; --",
        "café crème naïve résumé",
        "日本語 のログ 测试",
        "wildcard* star * and caret ^ tokens",
        "sensor temp_c=41.5 rssi_dbm=-61",
        "party 🎉 time",
        "Zürich straße ÉCOLE",
        "plain ok line",
    ]

    static func seed(_ store: any FleetStore) async throws {
        var rows: [LogRow] = []
        for (index, text) in Self.texts.enumerated() {
            rows.append(
                LogRow(
                    nodeID: index % 2 == 0 ? "n-even" : "n-odd",
                    streamKey: index % 3 == 0 ? "journal" : "demo",
                    seq: Int64(index + 1),
                    timestamp: 10_000 + Int64(index) * 100,
                    level: index % 6,
                    text: text
                )
            )
        }
        // Two rows with the same timestamp: arrival order breaks the tie.
        rows.append(LogRow(nodeID: "n-tie", streamKey: "s", seq: 1, timestamp: 50_000, level: 2, text: "tie first"))
        rows.append(LogRow(nodeID: "n-tie", streamKey: "s", seq: 2, timestamp: 50_000, level: 2, text: "tie second"))
        _ = try await store.appendLogs(rows)
    }

    @Test("filters by node, stream, level, time and words; newest first", arguments: StoreBackend.all)
    func filters(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await Self.seed(store)
            let all = try await store.searchLogs(LogQuery())
            #expect(all.count == Self.texts.count + 2)
            #expect(all.map(\.timestamp) == all.map(\.timestamp).sorted(by: >))
            #expect(all.prefix(2).map(\.text) == ["tie second", "tie first"])

            let even = try await store.searchLogs(LogQuery(nodeIDs: ["n-even"]))
            #expect(even.count == 6)
            #expect(even.allSatisfy { $0.nodeID == "n-even" })
            let twoNodes = try await store.searchLogs(LogQuery(nodeIDs: ["n-even", "n-tie"]))
            #expect(twoNodes.count == 8)

            let journal = try await store.searchLogs(LogQuery(streamKeys: ["journal"]))
            #expect(journal.map(\.seq).sorted() == [1, 4, 7, 10])
            let evenJournal = try await store.searchLogs(LogQuery(nodeIDs: ["n-even"], streamKeys: ["journal"]))
            #expect(evenJournal.map(\.seq).sorted() == [1, 7])

            let errors = try await store.searchLogs(LogQuery(nodeIDs: ["n-even", "n-odd"], minLevel: 4))
            #expect(errors.allSatisfy { $0.level >= 4 })
            #expect(errors.count == 4)

            // since inclusive, until exclusive.
            let window = try await store.searchLogs(LogQuery(since: 10_200, until: 10_500))
            #expect(window.map(\.timestamp) == [10_400, 10_300, 10_200])

            let refused = try await store.searchLogs(LogQuery(text: "REFUSED nginx"))
            #expect(refused.map(\.seq) == [1])
            #expect(try await store.searchLogs(LogQuery(text: "refused apache")).isEmpty)
            #expect(try await store.searchLogs(LogQuery(nodeIDs: ["n-odd"], text: "nginx")).isEmpty)
            #expect(try await store.searchLogs(LogQuery(text: "frame", since: 20_000)).isEmpty)
            #expect(try await store.searchLogs(LogQuery(text: "   ")).count == Self.texts.count + 2)

            #expect(try await store.searchLogs(LogQuery(limit: 3)).count == 3)
            #expect(try await store.searchLogs(LogQuery(limit: 0)).isEmpty)
            #expect(try await store.searchLogs(LogQuery(limit: -5)).isEmpty)
            #expect(try await store.searchLogs(LogQuery(limit: 50_000)).count == Self.texts.count + 2)
        }
    }

    /// What a correct search returns: rows containing every query word as a word,
    /// case-insensitively.
    static func expected(_ query: String) -> Set<String> {
        let wanted = Self.words(query)
        guard !wanted.isEmpty else { return [] }
        return Set(Self.texts.filter { Set(Self.words($0)).isSuperset(of: wanted) })
    }

    static func words(_ text: String) -> [String] {
        text.split { !($0.isLetter || $0.isNumber) }.map { $0.lowercased() }
    }

    static let hostileQueries: [String] = [
        "\"", "\"\"", "\"hello", "hello\" OR \"x", "*", "wildcard*", "star*", "^caret", "NEAR(", "NEAR(a b)", "near",
        "OR", "or not", "AND", "NOT plain", "a OR b", "-", "--", "'", "''", "O'Brien", "'; DROP TABLE logs; --",
        "drop table", "%", "_", "\\", "(", ")", "{}", "[", ":", "col:value", "text:ok", "logs_fts", "+plain", "plain +ok",
        "café", "CAFÉ", "naïve", "cafe", "日本語", "测试", "🎉", "party🎉", "straße", "école", "zürich", "\u{0}",
        "temp_c", "41.5", "-61", "fps=12", "/usr/sbin/nginx", String(repeating: "x ", count: 100), "   ok   ",
    ]

    @Test("hostile or Unicode text never errors and never matches wrongly", arguments: StoreBackend.all)
    func hostileText(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            try await Self.seed(store)
            for query in Self.hostileQueries {
                let found: [LogRow]
                do {
                    found = try await store.searchLogs(LogQuery(nodeIDs: ["n-even", "n-odd"], text: query))
                } catch {
                    Issue.record("search for \(query.debugDescription) threw \(error)")
                    continue
                }
                let blank = query.allSatisfy(\.isWhitespace)
                if !blank {
                    #expect(Set(found.map(\.text)) == Self.expected(query), "query \(query.debugDescription)")
                }
            }
        }
    }

    @Test("text with NUL is stored (as U+FFFD) and searchable", arguments: StoreBackend.all)
    func nulText(_ backend: StoreBackend) async throws {
        try await withStore(backend) { store in
            let result = try await store.appendLogs([LogRow(nodeID: "n", streamKey: "s", seq: 1, timestamp: 1, level: 2, text: "before\u{0}after")])
            #expect(result.inserted == 1)
            let found = try await store.searchLogs(LogQuery(text: "after"))
            #expect(found.map(\.text) == ["before\u{FFFD}after"])
        }
    }
}
