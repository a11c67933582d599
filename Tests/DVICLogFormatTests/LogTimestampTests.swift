import DVICLogFormat
import Testing

@Suite("LogTimestamp")
struct LogTimestampTests {
    @Test(
        "known instants",
        arguments: [
            ("1970-01-01T00:00:00.000Z", Int64(0)),
            ("1970-01-01T00:00:00.001Z", 1),
            ("1969-12-31T23:59:59.999Z", -1),
            ("2000-01-01T00:00:00.000Z", 946_684_800_000),
            ("2000-02-29T12:00:00.000Z", 951_825_600_000),
            ("2024-02-29T23:59:59.999Z", 1_709_251_199_999),
            ("2024-03-01T00:00:00.000Z", 1_709_251_200_000),
            ("2026-11-28T10:00:00.000Z", 1_795_860_000_000),
            ("1999-12-31T23:59:59.999Z", 946_684_799_999),
            ("2038-01-19T03:14:08.000Z", 2_147_483_648_000),
            ("1900-03-01T00:00:00.000Z", -2_203_891_200_000),
            ("0000-01-01T00:00:00.000Z", LogTimestamp.minimum),
            ("9999-12-31T23:59:59.999Z", LogTimestamp.maximum),
        ])
    func knownInstants(text: String, milliseconds: Int64) {
        #expect(LogTimestamp.format(milliseconds) == text)
        #expect(LogTimestamp.parse(text) == milliseconds)
    }

    @Test("every day from 1899 to 2101 round-trips, with the calendar's day counts")
    func everyDay() {
        var days = LogTimestampTestsSupport.daysFromCivil(1899, 1, 1)
        for year in Int64(1899)...2101 {
            let firstDayOfYear = days
            for month in Int64(1)...12 {
                let length = LogTimestampTestsSupport.monthLength(year, month)
                for day in 1...length {
                    let text = LogTimestampTestsSupport.text(year, month, day) + "T12:00:10.123Z"
                    let milliseconds = days * 86_400_000 + 43_210_123
                    #expect(LogTimestamp.format(milliseconds) == text)
                    #expect(LogTimestamp.parse(text) == milliseconds)
                    days += 1
                }
                // The day after the last of the month is no date.
                let pastEnd = LogTimestampTestsSupport.text(year, month, length + 1) + "T00:00:00.000Z"
                #expect(LogTimestamp.parse(pastEnd) == nil)
            }
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            #expect(days - firstDayOfYear == (leap ? 366 : 365), "\(year)")
        }
    }

    @Test("year, month and day boundaries")
    func boundaries() throws {
        let newYear = try #require(LogTimestamp.parse("2026-01-01T00:00:00.000Z"))
        #expect(LogTimestamp.format(newYear - 1) == "2025-12-31T23:59:59.999Z")
        let leapDay = try #require(LogTimestamp.parse("2024-02-29T00:00:00.000Z"))
        #expect(LogTimestamp.format(leapDay - 1) == "2024-02-28T23:59:59.999Z")
        #expect(LogTimestamp.format(leapDay + 86_400_000) == "2024-03-01T00:00:00.000Z")
        #expect(LogTimestamp.parse("2100-02-29T00:00:00.000Z") == nil)
        #expect(LogTimestamp.parse("2000-02-29T00:00:00.000Z") != nil)
    }

    @Test("out-of-range instants clamp to the years a record can write")
    func clamping() {
        #expect(LogTimestamp.format(.min) == "0000-01-01T00:00:00.000Z")
        #expect(LogTimestamp.format(.max) == "9999-12-31T23:59:59.999Z")
    }

    @Test(
        "the record form rejects anything else",
        arguments: [
            "", "2026-11-28T10:00:00.000", "2026-11-28T10:00:00Z", "2026-11-28t10:00:00.000Z",
            "2026-11-28T10:00:00.000z", "2026-11-28 10:00:00.000Z", "2026-11-28T10:00:00,000Z",
            "2026-00-28T10:00:00.000Z", "2026-11-00T10:00:00.000Z", "2026-11-31T10:00:00.000Z",
            "2026-11-28T24:00:00.000Z", "2026-11-28T10:60:00.000Z", "2026-11-28T10:00:61.000Z",
            "2026-11-28T10:00:00.0a0Z", "20261128T100000.000Z0000", "2026-11-28T10:00:00.000Z ",
            "+026-11-28T10:00:00.000Z", "2026-11-28T10:00:00.000+00:00",
        ])
    func rejects(text: String) {
        #expect(LogTimestamp.parse(text) == nil)
    }

    @Test("a leap second reads as the next minute's first instant")
    func leapSecond() {
        #expect(LogTimestamp.parse("2016-12-31T23:59:60.000Z") == LogTimestamp.parse("2017-01-01T00:00:00.000Z"))
    }

    @Test(
        "lenient RFC 3339 for header fields",
        arguments: [
            ("2026-11-28T10:00:00.000Z", "2026-11-28T10:00:00.000Z"),
            ("2026-11-28T10:00:00Z", "2026-11-28T10:00:00.000Z"),
            ("2026-11-28t10:00:00.5z", "2026-11-28T10:00:00.500Z"),
            ("2026-11-28 10:00:00.123456789Z", "2026-11-28T10:00:00.123Z"),
            ("2026-11-28T11:30:00.000+01:30", "2026-11-28T10:00:00.000Z"),
            ("2026-11-28T05:00:00-05:00", "2026-11-28T10:00:00.000Z"),
            ("2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00.000Z"),
        ])
    func lenient(text: String, canonical: String) {
        #expect(LogTimestamp.parseRFC3339(text) == LogTimestamp.parse(canonical))
    }

    @Test("lenient parsing still rejects what is no date-time", arguments: [
        "2026-11-28", "2026-11-28T10:00:00", "2026-11-28T10:00:00.Z", "2026-11-28T10:00:00.1234567890Z",
        "2026-11-28T10:00:00+0100", "2026-11-28T10:00:00+24:00", "2026-02-30T10:00:00Z", "yesterday",
    ])
    func lenientRejects(text: String) {
        #expect(LogTimestamp.parseRFC3339(text) == nil)
    }

    @Test("now is close to the system's clock and formats")
    func now() {
        let now = LogTimestamp.now()
        #expect(now > 1_750_000_000_000)
        #expect(LogTimestamp.parse(LogTimestamp.format(now)) == now)
    }
}

/// An independent, slow calendar to check the fast one against.
private enum LogTimestampTestsSupport {
    static func monthLength(_ year: Int64, _ month: Int64) -> Int64 {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][Int(month - 1)]
    }

    static func daysFromCivil(_ year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        var days: Int64 = 0
        if year >= 1970 {
            for y in 1970..<year { days += (1...12).reduce(0) { $0 + monthLength(y, $1) } }
        } else {
            for y in year..<1970 { days -= (1...12).reduce(0) { $0 + monthLength(y, $1) } }
        }
        for m in 1..<month { days += monthLength(year, m) }
        return days + day - 1
    }

    static func text(_ year: Int64, _ month: Int64, _ day: Int64) -> String {
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: width - digits.count) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }
}
