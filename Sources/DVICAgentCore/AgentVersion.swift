/// The agent's version, sent in `hello` and the inventory. It is read from the executable's
/// version stamp (`AgentVersionStamp`), so a stamped copy of a build reports the stamped version.
public enum AgentVersion {
    public static let current = AgentVersionStamp.current
}
