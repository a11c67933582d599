public import DVICLogFormat
public import Logging

/// A swift-log `LogHandler` that writes to a `DVICLog`, so code that logs through swift-log lands
/// in the demo's log file.
///
/// Levels map onto the file's six: notice → INFO, warning → WARN, critical → FATAL, the others by
/// name. Metadata (provider, then handler, then call site, later ones winning) is appended to the
/// message as ` key=value` in key order, and an attached error as ` error=…`.
public struct DVICLogHandler: LogHandler {
    /// The log every copy of this handler writes to.
    public let log: DVICLog
    /// The `Logger`'s label; not written, since the file already names the demo.
    public let label: String
    public var metadata: Logger.Metadata
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level

    public init(
        label: String, log: DVICLog, logLevel: Logger.Level = .info, metadata: Logger.Metadata = [:],
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.log = log
        self.logLevel = logLevel
        self.metadata = metadata
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadataProvider?.get() ?? [:]
        merged.merge(metadata) { _, handler in handler }
        if let callSite = event.metadata {
            merged.merge(callSite) { _, call in call }
        }
        var message = event.message.description
        for key in merged.keys.sorted() {
            message += " \(key)=\(merged[key]!)"
        }
        if let error = event.error {
            message += " error=\(error)"
        }
        log.log(Self.level(for: event.level), message)
    }

    /// The file's level for a swift-log level.
    public static func level(for level: Logger.Level) -> LogLevel {
        switch level {
        case .trace: .trace
        case .debug: .debug
        case .info, .notice: .info
        case .warning: .warn
        case .error: .error
        case .critical: .fatal
        }
    }
}
