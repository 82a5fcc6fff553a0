using System;
using System.Globalization;
using System.IO;
using System.Text;

namespace PSReplica.Commands.Hosting;

/// <summary>-LogPath: one line per item in rsync's --log-file form (<c>2026/12/06 08:30:00 [1234] &gt;f+++++++++ a/b.txt</c>),
/// with the run's start, its errors and warnings, and its totals. Appended, and flushed line by line, so that an
/// unattended job leaves a trail up to the moment it was stopped or killed. Written on the pipeline thread only.</summary>
internal sealed class RunLog : IDisposable
{
    private readonly StreamWriter _writer;
    private readonly string _prefix = $"[{Environment.ProcessId}] ";

    public RunLog(string path)
    {
        var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        _writer = new StreamWriter(file, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { AutoFlush = true, NewLine = "\n" };
    }

    public void Start(string command, string source, string destination) => Line($"{command} {source} -> {destination}");

    public void Item(SyncItem item) =>
        Line(item.LinkTarget is null ? $"{item.Itemize} {item.RelativePath}" : $"{item.Itemize} {item.RelativePath} -> {item.LinkTarget}");

    public void Error(string errorId, string message) => Line($"ERROR {errorId}: {message}");

    public void Warning(string message) => Line("WARNING: " + message);

    public void Totals(SyncSummary summary) =>
        Line(string.Create(CultureInfo.InvariantCulture,
            $"sent {summary.BytesTransferred} bytes  matched {summary.BytesMatched} bytes  total size {summary.TotalBytes}  "
            + $"created {summary.Created}  updated {summary.Updated}  deleted {summary.Deleted}  linked {summary.Linked}  "
            + $"skipped {summary.Skipped}  errors {summary.Errors}  {summary.Duration:0.000} s"));

    public void Dispose() => _writer.Dispose();

    private void Line(string text) =>
        _writer.WriteLine(DateTime.Now.ToString("yyyy/MM/dd HH:mm:ss ", CultureInfo.InvariantCulture) + _prefix + text);
}
