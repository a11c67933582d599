internal import DVICServerCore
internal import DVICStore
public import Hummingbird

extension APIModel.LogCountsResponse: ResponseEncodable {}

extension FleetServer {
    /// `GET /v1/admin/log-counts?node=`: per stream, how many rows are stored, how many
    /// distinct seqs, and the seq range. Admin only. It exists so that a check of
    /// "every line stored exactly once" over millions of lines (dvic-loadtest) is one
    /// index scan rather than thousands of paged searches.
    func addLogCountRoutes(_ router: Router<APIContext>) {
        router.get("/v1/admin/log-counts") { request, context in
            _ = try context.require(.admin)
            let node = request.uri.queryParameters.get("node").flatMap { $0.isEmpty ? nil : $0 }
            // Rows taken but not yet written count too: what was acknowledged or is about to be.
            await self.logs.flushAll()
            let counts = try await self.store.logStreamCounts(nodeID: node)
            return APIModel.LogCountsResponse(streams: counts.map {
                APIModel.LogStreamCount(node: $0.nodeID, stream: $0.streamKey, rows: $0.rows, distinctSeqs: $0.distinctSeqs, minSeq: $0.minSeq, maxSeq: $0.maxSeq)
            })
        }
    }
}
