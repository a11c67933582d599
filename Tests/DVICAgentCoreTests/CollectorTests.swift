import DVICProtocol
import Foundation
import Testing

@testable import DVICAgentCore

@Suite("Collectors: parsers over fixtures and the real /proc")
struct CollectorTests {
    static let procStat = """
        cpu  4705 356 584 3699176 23060 0 277 0 0 0
        cpu0 1393 280 283 1840216 11484 0 196 0 0 0
        cpu1 3312 76 301 1858960 11576 0 81 0 0 0
        intr 1462898 35 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0
        ctxt 1990473
        btime 1764300000
        processes 30233
        procs_running 2
        procs_blocked 0

        """

    @Test func procStat() {
        let stat = ProcStat.parse(Self.procStat)
        #expect(stat.total == CPUTimes(user: 4705, nice: 356, system: 584, idle: 3_699_176, iowait: 23060, irq: 0, softirq: 277, steal: 0))
        #expect(stat.cores.keys.sorted() == [0, 1])
        #expect(stat.cores[1]?.user == 3312)
        #expect(stat.bootTime == 1_764_300_000)
        #expect(stat.processesRunning == 2)
    }

    @Test func cpuPercentFromDeltas() {
        let before = CPUTimes(user: 100, system: 100, idle: 800)
        let after = CPUTimes(user: 150, system: 150, idle: 900)  // 100 busy of 200
        #expect(after.busyPercent(since: before) == 50)
        #expect(before.busyPercent(since: after) == nil)
    }

    @Test func loadAndMemoryAndUptime() {
        let load = LoadAverage.parse("0.52 1.58 2.05 2/345 12345\n")
        #expect(load == LoadAverage(one: 0.52, five: 1.58, fifteen: 2.05))
        let memory = MemoryInfo.parse("""
            MemTotal:        8000000 kB
            MemFree:         1000000 kB
            MemAvailable:    6000000 kB
            Buffers:           10000 kB
            Cached:          3000000 kB
            SwapTotal:       2000000 kB
            SwapFree:        1500000 kB
            """)
        #expect(memory?.total == 8_000_000 * 1024)
        #expect(memory?.used == 2_000_000 * 1024)
        #expect(memory?.swapUsed == 500_000 * 1024)
        // Old kernels: no MemAvailable.
        let old = MemoryInfo.parse("MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 5 kB\nCached: 20 kB\n")
        #expect(old?.available == 35 * 1024)
        #expect(SystemSnapshotReader.parseUptime("12345.67 24000.00\n") == 12345.67)
    }

    @Test func mountsSkipPseudoFileSystemsAndBindMounts() {
        let entries = MountEntry.parseAll("""
            proc /proc proc rw,relatime 0 0
            sysfs /sys sysfs rw 0 0
            /dev/sda1 / ext4 rw,relatime 0 0
            tmpfs /run tmpfs rw 0 0
            /dev/sda2 /mnt/my\\040data xfs rw 0 0
            overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0
            /dev/sda1 /var/lib/docker/bind ext4 rw 0 0
            /dev/loop0 /snap/core/1 squashfs ro 0 0
            tank/home /home zfs rw 0 0
            /dev/sda1 /srv/bind ext4 rw 0 0
            """)
        let real = MountEntry.realMounts(entries)
        #expect(real.map(\.mountPoint) == ["/", "/mnt/my data", "/home"])
    }

    @Test func wholeDisksOnly() {
        let disks = DiskIOCounters.parseWholeDisks("""
               7       0 loop0 10 0 80 0 0 0 0 0 0 0 0 0 0 0 0 0 0
               8       0 sda 100 0 2000 0 50 0 4000 0 0 0 0 0 0 0 0 0 0
               8       1 sda1 90 0 1800 0 40 0 3000 0 0 0 0 0 0 0 0 0 0
             259       0 nvme0n1 10 0 100 0 5 0 50 0 0 0 0
             259       1 nvme0n1p1 10 0 100 0 5 0 50 0 0 0 0
             179       0 mmcblk0 1 0 8 0 1 0 8 0 0 0 0
             179       1 mmcblk0p1 1 0 8 0 1 0 8 0 0 0 0
             253       0 dm-0 1 0 8 0 1 0 8 0 0 0 0
            """)
        #expect(disks.map(\.name) == ["sda", "nvme0n1", "mmcblk0"])
        #expect(disks[0].readBytes == 2000 * 512)
        #expect(disks[0].writtenBytes == 4000 * 512)
    }

    @Test func networkDevices() {
        let counters = NetworkCounters.parse("""
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo:    3599      43    0    0    0     0          0         0     3599      43    0    0    0     0       0          0
              eth0: 13892207     426    0    0    0     0          0         0    25648     294    0    0    0     0       0          0
            """)
        #expect(counters.map(\.interface) == ["lo", "eth0"])
        #expect(counters[1].receivedBytes == 13_892_207)
        #expect(counters[1].sentBytes == 25648)
        #expect(!NetworkCounters.isReported("lo"))
        #expect(!NetworkCounters.isReported("veth1234"))
    }

    @Test func temperatureNames() {
        let named = TemperatureReading.name([
            ("acpitz", nil, 27.8), ("x86_pkg_temp", nil, 45.0), ("coretemp", "Package id 0", 44.0), ("coretemp", "Core 0", 40.0),
            ("nvme", "Composite", 38.9), ("nvme", "Composite", 39.9),
        ])
        #expect(named.map(\.name) == ["acpitz", "cpu", "coretemp_package_id_0", "coretemp_core_0", "nvme_composite", "nvme_composite_2"])
        #expect(TemperatureReading.parseMillidegrees("45500\n") == 45.5)
    }

    @Test func gpuCSV() {
        let readings = GPUReading.parse("0, NVIDIA GeForce RTX 3080, 45, 1024, 10240, 60\n1, Tesla T4, [N/A], 0, 15360, 40\n")
        #expect(readings.count == 2)
        #expect(readings[0].name == "NVIDIA GeForce RTX 3080")
        #expect(readings[0].memoryUsedBytes == Double(1 << 30))
        #expect(readings[1].utilizationPercent == nil)
    }

    @Test func processStat() {
        let text = "4242 (my (odd) demo) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 987654 12345678 300 18446744073709551615\n"
        let parsed = ProcessProbe.parseStat(text)
        #expect(parsed?.state == UInt8(ascii: "S"))
        #expect(parsed?.startTicks == 987_654)
        #expect(ProcessProbe.parseNamespacePIDs(status: "Name:\tsleep\nNSpid:\t4242\t7\n") == [4242, 7])
    }

    @Test func osReleaseAndCPUInfo() {
        let release = OSRelease.parse("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n")
        #expect(release.name == "Debian GNU/Linux")
        #expect(release.version == "12")
        let x86 = CPUInfo.parse("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU\n")
        #expect(x86 == CPUInfo(model: "Intel(R) Xeon(R) CPU", logicalCores: 2))
        let pi = CPUInfo.parse("processor\t: 0\nCPU part\t: 0xd08\n\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n")
        #expect(pi.model == "Raspberry Pi 4 Model B Rev 1.4")
    }

    // MARK: Metrics

    static func snapshot(at seconds: Double, busy: UInt64, rx: UInt64, interfaces: [String] = ["eth0"]) -> SystemSnapshot {
        var snapshot = SystemSnapshot(timestamp: Int64(seconds * 1000), monotonicNanoseconds: UInt64(seconds * 1e9))
        snapshot.stat = ProcStat(
            total: CPUTimes(user: busy, idle: 10_000), cores: [0: CPUTimes(user: busy, idle: 10_000)], bootTime: 1)
        snapshot.load = LoadAverage(one: 0.5, five: 0.25, fifteen: 0.125)
        snapshot.memory = MemoryInfo(total: 1000, available: 400, swapTotal: 0, swapFree: 0)
        snapshot.fileSystems = [FileSystemUsage(mountPoint: "/", totalBytes: 100, availableBytes: 25, usedBytes: 75)]
        snapshot.disks = [DiskIOCounters(name: "sda", readBytes: rx, writtenBytes: 0)]
        snapshot.network = interfaces.map { NetworkCounters(interface: $0, receivedBytes: rx, sentBytes: 0) }
        snapshot.temperatures = [TemperatureReading(name: "cpu", celsius: 45.5)]
        snapshot.uptimeSeconds = 100
        snapshot.processCount = 42
        return snapshot
    }

    @Test func metricsCoreComputesRatesAndKeepsIDs() {
        var core = MetricsCollectorCore()
        let first = core.update(Self.snapshot(at: 10, busy: 1000, rx: 0))
        let names = first.descriptors?.map(\.name) ?? []
        #expect(names.contains("cpu.total") && names.contains("cpu.core0") && names.contains("load.1"))
        #expect(names.contains("disk./.used_pct") && names.contains("net.eth0.rx") && names.contains("temp.cpu"))
        #expect(names.contains("mem.used") && names.contains("swap.used") && names.contains("disk.io.read"))
        #expect(names.contains("uptime") && names.contains("procs"))
        let byName = Dictionary(uniqueKeysWithValues: (first.descriptors ?? []).map { ($0.name, $0) })
        #expect(byName["cpu.total"]?.scale == 1 && byName["cpu.total"]?.unit == "%")
        #expect(byName["load.1"]?.scale == 2)
        #expect(byName["mem.used"]?.scale == -3 && byName["mem.used"]?.unit == "B")
        #expect(byName["net.eth0.rx"]?.scale == -2 && byName["net.eth0.rx"]?.unit == "B/s")
        #expect(byName["temp.cpu"]?.scale == 1 && byName["procs"]?.scale == 0)
        // No rates before a second reading.
        #expect(!first.sample.values.contains { $0.id == byName["cpu.total"]!.id })
        #expect(first.sample.values.contains { $0.id == byName["mem.used"]!.id && $0.value == 600 })

        let second = core.update(Self.snapshot(at: 12, busy: 6000, rx: 4000))
        #expect(second.descriptors == nil)
        let values = Dictionary(uniqueKeysWithValues: second.sample.values.map { ($0.id, $0.value) })
        #expect(values[byName["cpu.total"]!.id] == 100)  // all 5000 new ticks busy
        #expect(values[byName["net.eth0.rx"]!.id] == 2000)
        #expect(values[byName["disk./.used_pct"]!.id] == 75)
        #expect(second.sample.values.map(\.id) == second.sample.values.map(\.id).sorted())

        // A new interface: a new descriptor set in which the old ids stay.
        let third = core.update(Self.snapshot(at: 13, busy: 6000, rx: 4000, interfaces: ["eth0", "wlan0"]))
        let updated = third.descriptors ?? []
        #expect(updated.contains { $0.name == "net.wlan0.rx" })
        #expect(updated.first { $0.name == "cpu.total" }?.id == byName["cpu.total"]!.id)
    }

    @Test func metricsEncodeThroughTheProtocol() throws {
        var core = MetricsCollectorCore()
        let first = core.update(Self.snapshot(at: 1, busy: 100, rx: 0))
        let second = core.update(Self.snapshot(at: 2, busy: 200, rx: 100))
        var encoder = try FrameEncoder()
        let bytes = try encoder.encode([
            .metricDescriptors(MetricDescriptors(descriptors: first.descriptors!)), .metricSample(first.sample),
            .metricSample(second.sample),
        ])
        var decoder = FrameDecoder()
        let decoded = try decoder.decode(message: bytes)
        #expect(decoded.count == 3)
    }

    // MARK: The real machine

    @Test func realProcReadsSomething() {
        var reader = SystemSnapshotReader()
        let snapshot = reader.read()
        #expect(snapshot.stat?.total != nil)
        #expect((snapshot.stat?.cores.count ?? 0) >= 1)
        #expect(snapshot.load != nil)
        #expect((snapshot.memory?.total ?? 0) > 0)
        #expect((snapshot.uptimeSeconds ?? 0) > 0)
        #expect((snapshot.processCount ?? 0) > 1)
        #expect(snapshot.fileSystems.contains { $0.mountPoint == "/" })
        #expect(!snapshot.network.isEmpty)
        var core = MetricsCollectorCore()
        _ = core.update(snapshot)
        let later = core.update(reader.read())
        let cpu = core.descriptors.first { $0.name == "cpu.total" }!
        if let value = later.sample.values.first(where: { $0.id == cpu.id })?.value {
            #expect(value >= 0 && value <= 100)
        }
    }

    @Test func realInventory() {
        let attributes = InventoryCollector().collect()
        let keys = Set(attributes.map(\.key))
        for key in ["hostname", "os.name", "os.version", "kernel", "arch", "cpu.model", "cpu.cores", "memory.total_bytes", "agent.version", "systemd", "docker", "boot.time"] {
            #expect(keys.contains(key), "missing \(key)")
        }
        #expect(attributes.map(\.key) == attributes.map(\.key).sorted())
        #expect(keys.contains { $0.hasPrefix("net.") && $0.hasSuffix(".ipv4") })
    }

    @Test func realProcessProbe() {
        let probe = ProcessProbe()
        let me = probe.start(of: getpid())
        #expect(me != nil)
        #expect(me!.startMilliseconds <= WallClock.milliseconds())
        #expect(probe.start(of: 999_999_999) == nil)
    }
}
