public import Logging

extension DVICLogHandler {
    /// Opens a demo log and makes it the process's swift-log backend.
    ///
    /// swift-log allows one bootstrap per process: call this once, early in `main`.
    ///
    /// - Returns: The log, for writing to it directly or closing it.
    @discardableResult
    public static func bootstrap(
        _ name: String, directory: String? = nil, maxBytes: Int? = nil, logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil
    ) throws(DVICLogError) -> DVICLog {
        let log = try DVICLog.open(name, directory: directory, maxBytes: maxBytes)
        LoggingSystem.bootstrap(
            { label, provider in
                DVICLogHandler(label: label, log: log, logLevel: logLevel, metadataProvider: provider)
            },
            metadataProvider: metadataProvider
        )
        return log
    }
}
