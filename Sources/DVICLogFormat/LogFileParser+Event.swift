extension LogFileParser {
    /// One thing the parser found, with the offset to persist once it is safely delivered.
    public struct Event: Sendable, Hashable {
        public enum Kind: Sendable, Hashable {
            /// The file's first line.
            case header(LogFileHeader)
            /// The file's first line is not a usable header; `line` is its text (its first piece
            /// when it is over-long). What to do with such a file is the reader's choice.
            case invalidHeader(LogFileHeaderError, line: String)
            /// A record, or one piece of an over-long line.
            case record(LogRecord)
        }

        public var kind: Kind

        /// Where reading resumes once this event and every one before it are stored: just past the
        /// line's newline when `endsLine`, else the start of the line (its pieces come again).
        public var resumeOffset: Int64

        /// False for every piece of an over-long line but its last.
        public var endsLine: Bool

        public init(kind: Kind, resumeOffset: Int64, endsLine: Bool) {
            self.kind = kind
            self.resumeOffset = resumeOffset
            self.endsLine = endsLine
        }

        public var record: LogRecord? {
            if case .record(let record) = kind { record } else { nil }
        }

        public var header: LogFileHeader? {
            if case .header(let header) = kind { header } else { nil }
        }
    }
}
