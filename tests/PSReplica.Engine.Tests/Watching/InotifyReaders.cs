namespace PSReplica.Engine.Tests.Watching;

/// <summary>The test classes that start inotify readers (a thread each, "PSReplica inotify"): they run one test at a time,
/// so that a test that finds the reader thread by its name finds its own.</summary>
[CollectionDefinition(nameof(InotifyReaders))]
public sealed class InotifyReaders;
