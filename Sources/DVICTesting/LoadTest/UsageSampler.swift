import Foundation
import Synchronization

/// Samples the server's and this process's RSS and CPU once a second until cancelled.
struct UsageSampler: Sendable {
    let server: Int32?

    struct Figures: Sendable {
        var server: LoadTestReport.Usage
        var generator: LoadTestReport.Usage
        var machinePercent: Double?
    }

    func run() async -> Figures {
        let clock = ContinuousClock()
        let serverSampler = server.map(ProcessSampler.init(pid:))
        let ownSampler = ProcessSampler(pid: getpid())
        var serverUsage = Track()
        var ownUsage = Track()
        let firstMachine = ProcessSampler.machineCPU()
        var lastMachine = firstMachine
        var previousServer = serverSampler?.read()
        var previousOwn = ownSampler.read()
        serverUsage.add(previousServer, after: nil)
        ownUsage.add(previousOwn, after: nil)
        while !Task.isCancelled {
            try? await clock.sleep(for: .seconds(1))
            let nextServer = serverSampler?.read()
            let nextOwn = ownSampler.read()
            serverUsage.add(nextServer, after: previousServer)
            ownUsage.add(nextOwn, after: previousOwn)
            if nextServer != nil { previousServer = nextServer }
            if nextOwn != nil { previousOwn = nextOwn }
            lastMachine = ProcessSampler.machineCPU()
        }
        let wall = lastMachine.total - firstMachine.total
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        // total is CPU seconds over all cores; busy / (total / cores) is percent of one core.
        let machine = wall > 0 ? (lastMachine.busy - firstMachine.busy) / (wall / cores) * 100 : nil
        return Figures(server: serverUsage.usage(pid: server), generator: ownUsage.usage(pid: getpid()), machinePercent: machine)
    }

    struct Track {
        var peakRSS: Int64?
        var first: ProcessSampler.Reading?
        var last: ProcessSampler.Reading?
        var peakCPU: Double?

        mutating func add(_ reading: ProcessSampler.Reading?, after previous: ProcessSampler.Reading?) {
            guard let reading else { return }
            peakRSS = max(peakRSS ?? 0, reading.rssBytes)
            if first == nil { first = reading }
            last = reading
            if let previous {
                let seconds = LoadTest.seconds(reading.at - previous.at)
                if seconds > 0 { peakCPU = max(peakCPU ?? 0, (reading.cpuSeconds - previous.cpuSeconds) / seconds * 100) }
            }
        }

        func usage(pid: Int32?) -> LoadTestReport.Usage {
            var mean: Double?
            if let first, let last {
                let seconds = LoadTest.seconds(last.at - first.at)
                if seconds > 0 { mean = (last.cpuSeconds - first.cpuSeconds) / seconds * 100 }
            }
            return LoadTestReport.Usage(pid: pid, peakRSSBytes: peakRSS, meanCPUPercent: mean, peakCPUPercent: peakCPU)
        }
    }
}
