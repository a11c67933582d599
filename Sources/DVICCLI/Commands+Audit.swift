extension Commands {
    /// `dvic audit`: who did what, newest first.
    public static func audit(since: String?, actor: String?, limit: Int, json: Bool, client: FleetClient) async throws(CLIError) -> Int32 {
        guard limit > 0 else { throw .usage("--limit must be positive") }
        var query: [(String, String)] = [("limit", String(limit))]
        if let since { query.append(("since", try TimeSpec.since(since))) }
        if let actor { query.append(("actor", actor)) }
        let entries = try await client.audit(query)
        if json {
            try printJSON(entries)
            return CLIExitCode.success.rawValue
        }
        guard !entries.isEmpty else {
            Console.err("no audit entries\(since.map { " since \($0)" } ?? "")")
            return CLIExitCode.success.rawValue
        }
        var table = TextTable(["TIME (UTC)", "ACTOR", "ROLE", "ACTION", "TARGET", "DETAIL"])
        for entry in entries {
            let detail = entry.detail.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            table.append([
                HumanFormat.shortTime(entry.at), entry.actor, entry.role, entry.action,
                HumanFormat.printable(entry.target.count > 40 ? String(entry.target.prefix(39)) + "…" : entry.target),
                HumanFormat.printable(detail.count > 80 ? String(detail.prefix(79)) + "…" : detail),
            ])
        }
        print(table.render())
        return CLIExitCode.success.rawValue
    }
}
