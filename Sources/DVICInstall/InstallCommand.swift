/// The command an SSH install runs on the target: fetch the install script from the server
/// (curl, else wget), then run it as root — directly for root, else through `sudo -S`, which reads
/// the password from the channel's stdin. The password is never part of the command line, so it
/// shows in no process listing and no shell history.
public enum InstallCommand {
    /// - Parameters:
    ///   - scriptURL: `http://SERVER/install.sh?token=…`, as the target reaches the server.
    ///   - arguments: passed to the script (`--prefix DIR`, Spec/install.md).
    public static func remote(scriptURL: String, user: String, arguments: [String] = []) -> String {
        let url = quote(scriptURL)
        let runAs = user == "root" ? "" : "sudo -S -p '' "
        let args = arguments.map(quote).joined(separator: " ")
        // Steps are reported by the script itself; this wrapper only reports what stops it
        // from starting. Exit 90 marks "could not fetch", which the scanner reads from DVIC-FAIL.
        let script = """
            d=$(mktemp -d) || exit 1; trap 'rm -rf "$d"' EXIT; \
            if command -v curl >/dev/null 2>&1; then curl -fsS -o "$d/install.sh" \(url); \
            elif command -v wget >/dev/null 2>&1; then wget -q -O "$d/install.sh" \(url); \
            else echo 'DVIC-FAIL download_failed neither curl nor wget is installed on the target' >&2; exit 90; fi \
            || { echo 'DVIC-FAIL download_failed could not download the install script from the server' >&2; exit 90; }; \
            \(runAs)sh "$d/install.sh" \(args)
            """
        return "sh -c " + quote(script)
    }

    /// POSIX single-quoting: safe for any byte except NUL.
    public static func quote(_ text: String) -> String {
        "'" + text.replacingAll("'", with: "'\\''") + "'"
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        out.reserveCapacity(utf8.count)
        for character in self {
            if character == target { out += replacement } else { out.append(character) }
        }
        return out
    }
}
