#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 3339 UTC timestamps with millisecond precision, as `Int64` milliseconds since the Unix epoch.
///
/// Records carry the fixed 24-byte form `YYYY-MM-DDTHH:MM:SS.mmmZ`. The agent parses one per
/// record, so this works on bytes with its own civil-date arithmetic (Howard Hinnant's
/// `days_from_civil` / `civil_from_days`) rather than a date formatter, and allocates nothing to parse.
public enum LogTimestamp {
    /// The length of the record form, `2026-11-28T10:00:00.000Z`.
    public static let recordLength = 24

    /// 0000-01-01T00:00:00.000Z: the first instant a four-digit year can write.
    public static let minimum: Int64 = -62_167_219_200_000
    /// 9999-12-31T23:59:59.999Z: the last instant a four-digit year can write.
    public static let maximum: Int64 = 253_402_300_799_999

    /// The current wall-clock time, as writers stamp records and readers stamp lines they cannot parse.
    public static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// Formats milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    ///
    /// Instants outside years 0000–9999 are clamped to the nearest one that can be written,
    /// so the result always has the record form.
    public static func format(_ milliseconds: Int64) -> String {
        String(unsafeUninitializedCapacity: recordLength) { buffer in
            write(milliseconds, into: UnsafeMutableRawBufferPointer(buffer))
            return recordLength
        }
    }

    /// Appends the 24 bytes of the record form to `bytes`.
    public static func append(_ milliseconds: Int64, to bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: recordLength))
        bytes.withUnsafeMutableBytes { raw in
            write(milliseconds, into: UnsafeMutableRawBufferPointer(rebasing: raw[start..<(start + recordLength)]))
        }
    }

    /// Parses exactly the record form `YYYY-MM-DDTHH:MM:SS.mmmZ` (upper-case `T` and `Z`, nothing more).
    ///
    /// Returns nil for anything else, including impossible dates such as February 30.
    public static func parse(_ text: some StringProtocol) -> Int64? {
        var text = String(text)
        return text.withUTF8 { parseRecordForm($0) }
    }

    /// Parses an RFC 3339 date-time more leniently than the record grammar: `T`/`t` or a space
    /// between date and time, no fraction or 1–9 fraction digits (truncated to milliseconds), and
    /// `Z`/`z` or a `±HH:MM` offset. Header fields come from five languages' writers and from
    /// people, so they are read this way.
    public static func parseRFC3339(_ text: some StringProtocol) -> Int64? {
        var text = String(text)
        return text.withUTF8 { parseLenient($0) }
    }

    // MARK: - Civil-date arithmetic

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01.
    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2:
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            return leap ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }

    // MARK: - Bytes

    private static func write(_ milliseconds: Int64, into out: UnsafeMutableRawBufferPointer) {
        let clamped = min(max(milliseconds, minimum), maximum)
        // Floor division, so instants before 1970 land on the right day and millisecond.
        var days = clamped / 86_400_000
        var msOfDay = clamped % 86_400_000
        if msOfDay < 0 {
            days -= 1
            msOfDay += 86_400_000
        }
        let (year, month, day) = civilFromDays(days)
        func put(_ value: Int64, at offset: Int, digits: Int) {
            var value = value
            var index = offset + digits - 1
            while index >= offset {
                out[index] = UInt8(truncatingIfNeeded: 48 + value % 10)
                value /= 10
                index -= 1
            }
        }
        put(year, at: 0, digits: 4)
        out[4] = UInt8(ascii: "-")
        put(month, at: 5, digits: 2)
        out[7] = UInt8(ascii: "-")
        put(day, at: 8, digits: 2)
        out[10] = UInt8(ascii: "T")
        put(msOfDay / 3_600_000, at: 11, digits: 2)
        out[13] = UInt8(ascii: ":")
        put(msOfDay / 60_000 % 60, at: 14, digits: 2)
        out[16] = UInt8(ascii: ":")
        put(msOfDay / 1000 % 60, at: 17, digits: 2)
        out[19] = UInt8(ascii: ".")
        put(msOfDay % 1000, at: 20, digits: 3)
        out[23] = UInt8(ascii: "Z")
    }

    /// Reads `count` ASCII digits at `offset`, or nil if any is not a digit.
    @inline(__always)
    private static func digits(_ bytes: UnsafeBufferPointer<UInt8>, _ offset: Int, _ count: Int) -> Int64? {
        var value: Int64 = 0
        for index in offset..<(offset + count) {
            let digit = bytes[index] &- 48
            guard digit < 10 else { return nil }
            value = value * 10 + Int64(digit)
        }
        return value
    }

    /// Checks the ranges of date and time fields and turns them into milliseconds.
    ///
    /// A second of 60 (a leap second, which RFC 3339 allows) is accepted and counts as the first
    /// instant of the next minute: the line is still a record rather than an unparsed one.
    private static func combine(
        year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64, millisecond: Int64
    ) -> Int64? {
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millisecond
    }

    static func parseRecordForm(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard bytes.count == recordLength,
            bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "."),
            bytes[23] == UInt8(ascii: "Z"),
            let year = digits(bytes, 0, 4), let month = digits(bytes, 5, 2), let day = digits(bytes, 8, 2),
            let hour = digits(bytes, 11, 2), let minute = digits(bytes, 14, 2), let second = digits(bytes, 17, 2),
            let millisecond = digits(bytes, 20, 3)
        else { return nil }
        return combine(
            year: year, month: month, day: day, hour: hour, minute: minute, second: second, millisecond: millisecond)
    }

    private static func parseLenient(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard bytes.count >= 20,
            bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = digits(bytes, 0, 4), let month = digits(bytes, 5, 2), let day = digits(bytes, 8, 2),
            let hour = digits(bytes, 11, 2), let minute = digits(bytes, 14, 2), let second = digits(bytes, 17, 2)
        else { return nil }
        var index = 19
        var millisecond: Int64 = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < bytes.count, bytes[index] &- 48 < 10 {
                if index - fractionStart < 3 {
                    millisecond = millisecond * 10 + Int64(bytes[index] - 48)
                }
                index += 1
            }
            let fractionDigits = index - fractionStart
            guard (1...9).contains(fractionDigits) else { return nil }
            for _ in min(fractionDigits, 3)..<3 { millisecond *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offsetMinutes: Int64 = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard bytes.count - index == 6, bytes[index + 3] == UInt8(ascii: ":"),
                let offsetHours = digits(bytes, index + 1, 2), let offsetMins = digits(bytes, index + 4, 2),
                offsetHours <= 23, offsetMins <= 59
            else { return nil }
            offsetMinutes = (offsetHours * 60 + offsetMins) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        default:
            return nil
        }
        guard index == bytes.count,
            let local = combine(
                year: year, month: month, day: day, hour: hour, minute: minute, second: second,
                millisecond: millisecond)
        else { return nil }
        return local - offsetMinutes * 60_000
    }
}
