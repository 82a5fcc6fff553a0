using PSReplica.Engine.Endpoints;
using PSReplica.Engine.Native;

namespace PSReplica.Engine.Client;

/// <summary>-Watch's directory moves on a push to an agent: the agent moves the directory (MoveWithin). An agent that
/// does not list "move-within" is not asked: the answer is then ENOSYS, and nothing was sent.</summary>
internal sealed class AgentDirectoryMoves(AgentClient client) : IDirectoryMoves
{
    public int MoveDirectory(string from, string to, CancellationToken cancellation) =>
        client.MovesWithin ? client.MoveWithinAsync(from, to, cancellation).GetAwaiter().GetResult() : Posix.ENOSYS;
}
