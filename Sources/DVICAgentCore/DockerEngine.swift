#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
public import DVICProtocol
public import NIOCore

/// The containers of the node, from the Docker Engine API on its Unix socket.
///
/// CPU use needs two readings, so the engine keeps each container's previous CPU counters and
/// `cpuPermille` is thousandths of one CPU over the time between two `containers()` calls (0 on
/// the first). Memory is the usage less the page cache, as `docker stats` shows it.
public final class DockerEngine {
    public struct Container: Sendable, Hashable {
        public var info: ContainerInfo
        /// The container's init process on the host, 0 when it does not run.
        public var pid: Int32
    }

    public let client: UnixSocketHTTPClient
    private var previousCPU: [String: (container: UInt64, system: UInt64)] = [:]

    public init(socketPath: String, eventLoopGroup: any EventLoopGroup) {
        client = UnixSocketHTTPClient(socketPath: socketPath, eventLoopGroup: eventLoopGroup)
    }

    public func containers() async throws -> [Container] {
        let list = try await client.get("/containers/json?all=1")
        guard list.status == 200 else { throw AgentError(code: .http, message: "GET /containers/json answered \(list.status)") }
        var result: [Container] = []
        for summary in try Self.parseList(list.body) {
            var info = ContainerInfo(
                id: summary.id, name: summary.name, image: summary.image, state: summary.state, cpuPermille: 0, memoryBytes: 0)
            var pid: Int32 = 0
            if summary.state == "running" {
                if let inspect = try? await client.get("/containers/\(summary.id)/json"), inspect.status == 200 {
                    pid = Self.parsePID(inspect.body) ?? 0
                }
                if let stats = try? await client.get("/containers/\(summary.id)/stats?stream=false&one-shot=true"),
                    stats.status == 200, let usage = Self.parseStats(stats.body)
                {
                    info.memoryBytes = usage.memoryBytes
                    if let previous = previousCPU[summary.id], usage.containerCPU >= previous.container,
                        usage.systemCPU > previous.system
                    {
                        let share = Double(usage.containerCPU - previous.container) / Double(usage.systemCPU - previous.system)
                        info.cpuPermille = UInt64((share * Double(usage.onlineCPUs) * 1000).rounded())
                    }
                    previousCPU[summary.id] = (usage.containerCPU, usage.systemCPU)
                }
            }
            result.append(Container(info: info, pid: pid))
        }
        let present = Set(result.map(\.info.id))
        previousCPU = previousCPU.filter { present.contains($0.key) }
        return result
    }

    public struct Summary: Sendable, Hashable {
        public var id: String
        public var name: String
        public var image: String
        public var state: String
    }

    /// `GET /containers/json`: ids, names (without Docker's leading `/`), images and states.
    public static func parseList(_ body: [UInt8]) throws -> [Summary] {
        struct Item: Decodable {
            var Id: String
            var Names: [String]?
            var Image: String?
            var State: String?
        }
        return try JSONDecoder().decode([Item].self, from: Data(body)).map { item in
            let name = item.Names?.first.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 } ?? String(item.Id.prefix(12))
            return Summary(id: item.Id, name: name, image: item.Image ?? "", state: item.State ?? "")
        }
    }

    /// `GET /containers/<id>/json`: `State.Pid`.
    public static func parsePID(_ body: [UInt8]) -> Int32? {
        struct Inspect: Decodable {
            struct State: Decodable { var Pid: Int32? }
            var State: State?
        }
        return (try? JSONDecoder().decode(Inspect.self, from: Data(body)))?.State?.Pid
    }

    public struct Usage: Sendable, Hashable {
        public var containerCPU: UInt64
        public var systemCPU: UInt64
        public var onlineCPUs: Int
        public var memoryBytes: UInt64
    }

    /// `GET /containers/<id>/stats?stream=false`: CPU counters and memory less cache (cgroup v2
    /// reports `inactive_file`, v1 `cache`).
    public static func parseStats(_ body: [UInt8]) -> Usage? {
        struct Stats: Decodable {
            struct CPU: Decodable {
                struct Usage: Decodable { var total_usage: UInt64? }
                var cpu_usage: Usage?
                var system_cpu_usage: UInt64?
                var online_cpus: Int?
            }
            struct Memory: Decodable {
                var usage: UInt64?
                var stats: [String: UInt64]?
            }
            var cpu_stats: CPU?
            var memory_stats: Memory?
        }
        guard let stats = try? JSONDecoder().decode(Stats.self, from: Data(body)) else { return nil }
        let usage = stats.memory_stats?.usage ?? 0
        let cache = stats.memory_stats?.stats?["inactive_file"] ?? stats.memory_stats?.stats?["cache"] ?? 0
        return Usage(
            containerCPU: stats.cpu_stats?.cpu_usage?.total_usage ?? 0, systemCPU: stats.cpu_stats?.system_cpu_usage ?? 0,
            onlineCPUs: max(1, stats.cpu_stats?.online_cpus ?? 1), memoryBytes: usage > cache ? usage - cache : usage)
    }
}
