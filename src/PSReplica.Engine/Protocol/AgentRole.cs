namespace PSReplica.Engine.Protocol;

/// <summary>What the agent's tree is in a session (rsync's roles): the source of a pull or the destination of a push.</summary>
public enum AgentRole : byte
{
    Sender = 1,
    Receiver = 2,
}
