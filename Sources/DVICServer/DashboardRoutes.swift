internal import Foundation
internal import Hummingbird
internal import Logging
internal import NIOCore

/// The web dashboard: plain HTML, CSS and JS modules from `Resources/dashboard`, served
/// as they are at `/` (no build step), and the browser libraries it borrows from Debian
/// (Chart.js, xterm.js) at `/vendor/`.
///
/// Where the dashboard's files are read from, first found:
/// 1. `$DVIC_DASHBOARD_DIR` (development: files are read again on every request);
/// 2. the package's resource bundle beside the executable
///    (`dvic-monitoring_DVICServer.resources/dashboard`, with `resources: [.copy("Resources/dashboard")]`);
/// 3. the source tree this file was compiled from (`Sources/DVICServer/Resources/dashboard`).
///
/// The vendor folder is `$DVIC_VENDOR_DIR`, else the first `.build-vendor` found in the
/// executable's folder or one of its parents (the repository's, for
/// `.build/{debug,release}/dvic-server`), else `./.build-vendor`. `tools/vendor-js` fills it:
/// `xterm.js` (Debian's node-xterm bundled by Debian's esbuild), `xterm.css` and
/// `chart.min.js`. Without it, `chart.min.js` and `xterm.css` still come from
/// `/usr/share/javascript` when libjs-chart.js and libjs-xterm are installed, and the page
/// says what is missing.
struct DashboardAssets: Sendable {
    struct File: Sendable {
        var body: ByteBuffer
        var contentType: String
    }

    /// URL path (without the leading slash) → file, for the files found at start.
    let files: [String: File]
    let directory: String?
    /// Development mode: read each file again on every request.
    let reload: Bool
    let vendorDirectory: String?

    static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8",
        "js": "text/javascript; charset=utf-8",
        "mjs": "text/javascript; charset=utf-8",
        "css": "text/css; charset=utf-8",
        "svg": "image/svg+xml",
        "png": "image/png",
        "ico": "image/x-icon",
        "txt": "text/plain; charset=utf-8",
    ]

    /// The files `/vendor/` serves, with where Debian puts the ones it ships ready to use.
    static let vendorFiles: [String: (contentType: String, fallback: String?)] = [
        "xterm.js": ("text/javascript; charset=utf-8", nil),
        "xterm.css": ("text/css; charset=utf-8", "/usr/share/javascript/xterm/xterm.css"),
        "chart.min.js": ("text/javascript; charset=utf-8", "/usr/share/javascript/chart.js/chart.min.js"),
    ]

    static func load(environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger) -> DashboardAssets {
        let fileManager = FileManager.default
        let executableDirectory = executableURL().deletingLastPathComponent()
        var candidates: [(String, Bool)] = []
        if let dir = environment["DVIC_DASHBOARD_DIR"], !dir.isEmpty { candidates.append((dir, true)) }
        candidates.append((executableDirectory.appendingPathComponent("dvic-monitoring_DVICServer.resources/dashboard").path, false))
        candidates.append((URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/dashboard").path, false))
        let found = candidates.first { fileManager.fileExists(atPath: $0.0 + "/index.html") }

        var files: [String: File] = [:]
        if let (directory, _) = found, let enumerator = fileManager.enumerator(atPath: directory) {
            while let relative = enumerator.nextObject() as? String {
                guard let type = contentType(relative), let data = fileManager.contents(atPath: directory + "/" + relative) else { continue }
                files[relative] = File(body: ByteBuffer(bytes: data), contentType: type)
            }
        }

        var vendor: String? = environment["DVIC_VENDOR_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        if vendor == nil {
            var folder = executableDirectory
            while folder.path != "/" {
                let candidate = folder.appendingPathComponent(".build-vendor").path
                if fileManager.fileExists(atPath: candidate) {
                    vendor = candidate
                    break
                }
                folder = folder.deletingLastPathComponent()
            }
        }
        if vendor == nil { vendor = fileManager.currentDirectoryPath + "/.build-vendor" }

        logger.info("dashboard", metadata: [
            "files": "\(found?.0 ?? "not found")", "count": "\(files.count)", "vendor": "\(vendor ?? "none")",
        ])
        return DashboardAssets(files: files, directory: found?.0, reload: found?.1 ?? false, vendorDirectory: vendor)
    }

    static func contentType(_ path: String) -> String? {
        guard !path.hasPrefix("."), !path.contains("/."), let dot = path.lastIndex(of: ".") else { return nil }
        return contentTypes[String(path[path.index(after: dot)...]).lowercased()]
    }

    static func executableURL() -> URL {
        if let url = Bundle.main.executableURL { return url.resolvingSymlinksInPath() }
        return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    }

    func file(_ path: String) -> File? {
        guard let file = files[path] else { return nil }
        if reload, let directory, let data = FileManager.default.contents(atPath: directory + "/" + path) {
            return File(body: ByteBuffer(bytes: data), contentType: file.contentType)
        }
        return file
    }

    func vendorFile(_ name: String) -> File? {
        guard let entry = Self.vendorFiles[name] else { return nil }
        let paths = [vendorDirectory.map { $0 + "/" + name }, entry.fallback].compactMap { $0 }
        for path in paths {
            if let data = FileManager.default.contents(atPath: path) {
                return File(body: ByteBuffer(bytes: data), contentType: entry.contentType)
            }
        }
        return nil
    }

    /// The page loads only its own scripts and talks only to its own server; no other
    /// site may frame it. (The page itself sets `Referrer-Policy: no-referrer`.)
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        + "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

    static func response(_ file: File, cache: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = file.contentType
        headers[.cacheControl] = cache
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.body))
    }
}

extension FleetServer {
    /// `GET /` and every file of the dashboard by its path; `GET /vendor/{file}`.
    func addDashboardRoutes(_ router: Router<APIContext>) {
        let assets = DashboardAssets.load(logger: logger)
        router.get("/") { _, _ -> Response in
            guard let index = assets.file("index.html") else {
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: "dvic-server \(Self.version): the dashboard's files were not found (set DVIC_DASHBOARD_DIR). The API is under /v1.\n")))
            }
            return DashboardAssets.response(index, cache: "no-cache")
        }
        for path in assets.files.keys.sorted() {
            router.get(RouterPath("/" + path)) { _, _ -> Response in
                guard let file = assets.file(path) else { throw APIError.notFound(path) }
                return DashboardAssets.response(file, cache: "no-cache")
            }
        }
        router.get("/vendor/{file}") { _, context -> Response in
            let name = try context.parameters.require("file")
            guard let file = assets.vendorFile(name) else {
                throw APIError.notFound("/vendor/\(name): run tools/vendor-js (it installs libjs-chart.js, libjs-xterm, node-xterm and esbuild, and bundles xterm.js)")
            }
            return DashboardAssets.response(file, cache: "max-age=3600")
        }
    }
}
