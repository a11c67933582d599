/// Start times of processes seen from inside a container's pid namespace.
///
/// A demo in a container writes its pid as the container sees it. To find that process the probe
/// looks through /proc for processes in the same pid namespace as the container's init (the
/// `/proc/<pid>/ns/pid` links match) whose innermost `NSpid` is that pid, once per pid: later
/// checks read the host pid directly, and the start time catches a reuse.
final class ContainerProcessProbe {
    let probe: ProcessProbe
    let rootPID: Int32
    private var hostPIDs: [Int32: Int32] = [:]

    init(probe: ProcessProbe, rootPID: Int32) {
        self.probe = probe
        self.rootPID = rootPID
    }

    func start(of namespacePID: Int32) -> ProcessStart? {
        if let host = hostPIDs[namespacePID] {
            return probe.start(of: host)
        }
        guard let namespace = FileSystem.readLink("\(probe.procRoot)/\(rootPID)/ns/pid") else { return nil }
        for entry in FileSystem.contentsOfDirectory(probe.procRoot) ?? [] {
            guard let pid = Int32(entry), FileSystem.readLink("\(probe.procRoot)/\(pid)/ns/pid") == namespace,
                let status = FileSystem.readString("\(probe.procRoot)/\(pid)/status", maxBytes: 16_384),
                ProcessProbe.parseNamespacePIDs(status: status).last == namespacePID
            else { continue }
            hostPIDs[namespacePID] = pid
            return probe.start(of: pid)
        }
        return nil
    }
}
