/// The agent's version, sent in `hello` and the inventory.
public enum AgentVersion {
    public static let current = "0.1.0"
}
