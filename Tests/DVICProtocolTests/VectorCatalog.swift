import DVICProtocol

/// One example of every message type, the source of `Spec/vectors/frames/`.
///
/// Values are picked to exercise the encodings: multi-byte varints, negative
/// zigzag values, empty and non-ASCII strings, and metric values exactly
/// representable after quantization.
enum VectorCatalog {
    static let nonce: [UInt8] = (0..<32).map { UInt8($0) }
    static let signature: [UInt8] = (0..<64).map { UInt8(255 - $0) }
    static let sha256: [UInt8] = (0..<32).map { UInt8($0 &* 7) }
    static let t0: Int64 = 1_795_867_200_123  // 2026-11-28T10:00:00.123Z

    /// Messages that stand alone, one per type, keyed by the vector file name.
    static let single: [(name: String, message: Message)] = [
        ("challenge", .challenge(Challenge(versions: [1], nonce: nonce, serverTime: t0, capabilities: ["deflate", "zdict:1"]))),
        ("hello", .hello(Hello(version: 1, nodeID: "n-3f2a9c", agentVersion: "0.1.0", capabilities: ["deflate", "zdict:1", "pty"], signature: signature))),
        ("welcome", .welcome(Welcome(
            sessionID: "s-01", heartbeatSeconds: 15, config: [KeyValue("interval_ms", "1000")],
            resume: [ResumePoint(key: "demo:abcDEF123456", lastSeq: 41), ResumePoint(key: "journald", lastSeq: 300)]))),
        ("inventory", .inventory(Inventory(attributes: [
            KeyValue("hostname", "pi-cam-01"), KeyValue("os.name", "Debian GNU/Linux 12"), KeyValue("cpu.cores", "4"),
        ]))),
        ("logStreamOpen", .logStreamOpen(LogStreamOpen(
            streamID: 3, key: "demo:abcDEF123456", source: .demo, name: "camera-demo", path: "/tmp/dvic_log_abcDEF123456",
            container: "", pid: 1234, exe: "/usr/bin/python3", argv: ["python3", "demo.py"], user: "pi", started: t0))),
        ("logBatch", .logBatch(LogBatch(streamID: 3, firstSeq: 42, records: [
            LogRecord(timestamp: t0, severity: .info, text: "camera ready"),
            LogRecord(timestamp: t0 + 15, severity: .warn, text: "fps dropped to 12"),
            LogRecord(timestamp: t0 + 10, severity: .error, text: "café ✓ 日本"),
            LogRecord(timestamp: t0 + 2000, severity: .debug, text: ""),
        ]))),
        ("logAck", .logAck(LogAck(streamID: 3, seq: 45))),
        ("logGap", .logGap(LogGap(streamID: 3, firstSeq: 100, count: 250))),
        ("processStates", .processStates(ProcessStates(processes: [
            DemoProcess(key: "demo:abcDEF123456", name: "camera-demo", pid: 1234, startTicks: 987_654, state: .running, changedAt: t0),
            DemoProcess(key: "demo:zzzZZZ999999", name: "old-demo", pid: 99, startTicks: 12, state: .exited, changedAt: t0 - 60_000),
        ]))),
        ("containerStates", .containerStates(ContainerStates(containers: [
            ContainerInfo(id: "4f1c2b", name: "ros-core", image: "ros:humble", state: "running", cpuPermille: 125, memoryBytes: 268_435_456),
        ]))),
        ("logStreamClose", .logStreamClose(LogStreamClose(streamID: 3))),
        ("commandRequest", .commandRequest(CommandRequest(commandID: "c-7", mode: .shell, argv: ["uname -a"], timeoutMs: 30_000, maxOutputBytes: 1_048_576))),
        ("commandOutput", .commandOutput(CommandOutput(commandID: "c-7", stream: .stdout, data: Array("Linux pi 6.1.0\n".utf8)))),
        ("commandExit", .commandExit(CommandExit(commandID: "c-7", reason: .signaled, exitCode: -1, signal: 9, durationMs: 1503, message: "killed"))),
        ("commandCancel", .commandCancel(CommandCancel(commandID: "c-7"))),
        ("ptyOpen", .ptyOpen(PtyOpen(sessionID: "p-1", rows: 24, cols: 80, argv: [], env: [KeyValue("TERM", "xterm-256color")]))),
        ("ptyInput", .ptyInput(PtyInput(sessionID: "p-1", data: Array("echo hi\r".utf8)))),
        ("ptyOutput", .ptyOutput(PtyOutput(sessionID: "p-1", data: [0x1B, 0x5B, 0x33, 0x32, 0x6D, 0x68, 0x69, 0x0D, 0x0A]))),
        ("ptyResize", .ptyResize(PtyResize(sessionID: "p-1", rows: 50, cols: 200))),
        ("ptyClose", .ptyClose(PtyClose(sessionID: "p-1", exitCode: 3, reason: "shell exited"))),
        ("fileChunk", .fileChunk(FileChunk(transferID: "f-1", offset: 65_536, totalSize: 70_000, data: Array(repeating: 0xAB, count: 20)))),
        ("configUpdate", .configUpdate(ConfigUpdate(config: [KeyValue("interval_ms", "5000"), KeyValue("journald.units", "ssh.service,demo.service")]))),
        ("updateOffer", .updateOffer(UpdateOffer(version: "0.2.0", url: "/v1/agent/builds/0.2.0", size: 9_437_184, sha256: sha256, signature: signature))),
        ("updateStatus", .updateStatus(UpdateStatus(version: "0.2.0", state: .rolledBack, message: "new build did not come online"))),
        ("installRequest", .installRequest(InstallRequest(jobID: "job-7c1e", host: "192.168.1.42", port: 22, user: "pi", password: "raspberry", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMo9w3dTm+Xy2dQWZkqEwP7xYj5o0n3kC7i0pQ5Zc0sF", command: "sudo -S -p '' sh -c 'curl -fsSL \"http://10.0.0.2:8080/install.sh?token=enr_x\" | sh'", timeoutMs: 300_000))),
        ("installProgress", .installProgress(InstallProgress(jobID: "job-7c1e", step: "failed", message: "sudo: a password is required", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMo9w3dTm+Xy2dQWZkqEwP7xYj5o0n3kC7i0pQ5Zc0sF", failure: "no_sudo", finished: true))),
        ("ping", .ping(Ping(nonce: 0xDEAD_BEEF))),
        ("pong", .pong(Pong(nonce: 0xDEAD_BEEF))),
        ("error", .error(ErrorMessage(code: "unknown_message_type", fatal: false, message: "message type 0x7f is not known"))),
        ("streamAuth", .streamAuth(StreamAuth(token: "tok_abc"))),
        ("streamReady", .streamReady(StreamReady(role: "operator", serverVersion: "0.1.0"))),
        ("subscribe", .subscribe(Subscribe(subscriptionID: 1, kinds: 0b111, nodes: ["n-3f2a9c"], tags: ["lab-a"], metrics: ["cpu.total"], minSeverity: .warn, text: "camera"))),
        ("unsubscribe", .unsubscribe(Unsubscribe(subscriptionID: 1))),
        ("nodeStatus", .nodeStatus(NodeStatus(nodeID: "n-3f2a9c", name: "pi-cam-01", kind: .agent, state: .offline, lastSeen: t0, agentVersion: "0.1.0", tags: ["lab-a", "camera"]))),
        ("metricPoints", .metricPoints(MetricPoints(nodeID: "n-3f2a9c", points: [
            MetricPoint(name: "cpu.total", timestamp: t0, value: 12.5), MetricPoint(name: "temp.cpu", timestamp: t0, value: -3.25),
        ]))),
        ("logEntries", .logEntries(LogEntries(nodeID: "n-3f2a9c", streamKey: "demo:abcDEF123456", entries: [
            StreamLogEntry(seq: 42, timestamp: t0, severity: .info, text: "camera ready"),
        ]))),
        ("commandProgress", .commandProgress(CommandProgress(commandID: "c-7", nodeID: "n-3f2a9c", event: .exit, data: [], exitCode: 0, durationMs: 12, done: 3, total: 50))),
        ("ptyAttach", .ptyAttach(PtyAttach(nodeID: "n-3f2a9c", sessionID: "", rows: 24, cols: 80, argv: ["/bin/bash"]))),
        ("ptyAttached", .ptyAttached(PtyAttached(sessionID: "p-1", nodeID: "n-3f2a9c", scrollback: Array("$ ".utf8)))),
        ("demoStates", .demoStates(DemoStates(nodeID: "n-3f2a9c", processes: [
            DemoProcess(key: "demo:abcDEF123456", name: "camera-demo", pid: 1234, startTicks: 987_654, state: .exited, changedAt: t0),
        ]))),
        ("jobProgress", .jobProgress(JobProgress(jobID: "j-1", kind: "install", step: "downloading", message: "agent 0.1.0", done: 3, total: 6, state: .running))),
    ]

    /// Metric messages depend on what the connection described before, so their
    /// vectors are sequences.
    static let metricSequence: [Message] = [
        .metricDescriptors(MetricDescriptors(descriptors: [
            MetricDescriptor(id: 0, name: "cpu.total", unit: "%", scale: 1, kind: .gauge),
            MetricDescriptor(id: 1, name: "mem.used", unit: "B", scale: -3, kind: .gauge),
            MetricDescriptor(id: 2, name: "temp.cpu", unit: "C", scale: 2, kind: .gauge),
            MetricDescriptor(id: 5, name: "net.eth0.rx", unit: "B/s", scale: 0, kind: .counter),
        ])),
        .metricSample(MetricSample(timestamp: t0, values: [
            MetricValue(id: 0, value: 12.5), MetricValue(id: 1, value: 812_345_000), MetricValue(id: 2, value: 41.25),
            MetricValue(id: 5, value: 1500),
        ])),
        .metricSample(MetricSample(timestamp: t0 + 1000, values: [
            MetricValue(id: 0, value: 9.5), MetricValue(id: 1, value: 812_349_000), MetricValue(id: 2, value: 41.5),
            MetricValue(id: 5, value: 0),
        ])),
    ]
}
