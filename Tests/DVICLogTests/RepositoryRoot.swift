import Foundation

/// The repository's root, found from this file's path, so tests read `Spec/` where it is
/// rather than a copy bundled as a resource.
enum RepositoryRoot {
    static func url(filePath: String = #filePath) -> URL {
        var directory = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Spec/vectors/logfile").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        fatalError("no Spec/vectors/logfile above \(filePath)")
    }
}
