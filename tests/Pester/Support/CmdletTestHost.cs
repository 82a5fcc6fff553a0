// A PSHost for Pester tests of PSReplica's cmdlets: answers ShouldProcess prompts from a script, records what
// the cmdlet wrote to the host, and can change the file system just before it answers a prompt (to make races
// such as a vanished source file deterministic). Compiled with Add-Type by CmdletTestSupport.ps1.
using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using System.Threading;

namespace PSReplicaTests
{
    public sealed class CmdletTestHost : PSHost
    {
        private readonly CmdletTestHostUI _ui = new CmdletTestHostUI();
        private readonly Guid _id = Guid.NewGuid();

        public override string Name => "PSReplicaTestHost";

        public override Version Version => new Version(1, 0);

        public override Guid InstanceId => _id;

        public override PSHostUserInterface UI => _ui;

        public CmdletTestHostUI TestUI => _ui;

        public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;

        public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;

        public override void SetShouldExit(int exitCode)
        {
        }

        public override void EnterNestedPrompt() => throw new NotSupportedException();

        public override void ExitNestedPrompt() => throw new NotSupportedException();

        public override void NotifyBeginApplication()
        {
        }

        public override void NotifyEndApplication()
        {
        }
    }

    /// <summary>What to do when a prompt's message contains <see cref="Match"/>.</summary>
    public sealed class PromptRule
    {
        public PromptRule(string match, int choice)
        {
            Match = match;
            Choice = choice;
        }

        public string Match { get; }

        /// <summary>The index of the answer: 0 Yes, 1 Yes to All, 2 No, 3 No to All.</summary>
        public int Choice { get; }

        /// <summary>Deleted (file or directory tree) just before answering.</summary>
        public string DeleteBeforeAnswer { get; set; }

        /// <summary>With <see cref="DeleteBeforeAnswer"/>: a symbolic link to itself is created in its place.</summary>
        public bool ReplaceWithLinkLoop { get; set; }
    }

    public sealed class CmdletTestHostUI : PSHostUserInterface
    {
        public const int Yes = 0;
        public const int YesToAll = 1;
        public const int No = 2;
        public const int NoToAll = 3;

        public List<string> Prompts { get; } = new List<string>();

        /// <summary>Prompts ("prompt: ...") and host lines ("line: ...") in the order they happened.</summary>
        public List<string> Events { get; } = new List<string>();

        public List<string> Lines { get; } = new List<string>();

        public List<string> Warnings { get; } = new List<string>();

        public List<ProgressRecord> Progress { get; } = new List<ProgressRecord>();

        public List<PromptRule> Rules { get; } = new List<PromptRule>();

        /// <summary>The answer when no rule matches.</summary>
        public int DefaultChoice { get; set; } = Yes;

        public override PSHostRawUserInterface RawUI => null;

        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
        {
            lock (Prompts)
            {
                Prompts.Add(message);
            }

            Add(Events, "prompt: " + message);

            foreach (PromptRule rule in Rules)
            {
                if (message.Contains(rule.Match, StringComparison.Ordinal))
                {
                    if (rule.DeleteBeforeAnswer != null)
                    {
                        if (Directory.Exists(rule.DeleteBeforeAnswer) && !IsLink(rule.DeleteBeforeAnswer))
                        {
                            Directory.Delete(rule.DeleteBeforeAnswer, recursive: true);
                        }
                        else
                        {
                            File.Delete(rule.DeleteBeforeAnswer);
                        }

                        if (rule.ReplaceWithLinkLoop)
                        {
                            File.CreateSymbolicLink(rule.DeleteBeforeAnswer, Path.GetFileName(rule.DeleteBeforeAnswer));
                        }
                    }

                    return rule.Choice;
                }
            }

            return DefaultChoice;
        }

        private static bool IsLink(string path) => new FileInfo(path).LinkTarget != null;

        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) =>
            throw new NotSupportedException("Prompt: " + message);

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
            throw new NotSupportedException();

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
            PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw new NotSupportedException();

        public override string ReadLine() => throw new NotSupportedException("ReadLine");

        public override SecureString ReadLineAsSecureString() => throw new NotSupportedException();

        public override void Write(string value) => Add(Lines, value);

        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Add(Lines, value);

        public override void WriteLine(string value)
        {
            Add(Lines, value);
            Add(Events, "line: " + value);
        }

        public override void WriteErrorLine(string value) => Add(Lines, value);

        public override void WriteDebugLine(string message) => Add(Lines, message);

        public override void WriteVerboseLine(string message) => Add(Lines, message);

        public override void WriteWarningLine(string message) => Add(Warnings, message);

        public override void WriteProgress(long sourceId, ProgressRecord record)
        {
            lock (Progress)
            {
                Progress.Add(record);
            }
        }

        private static void Add(List<string> list, string value)
        {
            lock (list)
            {
                list.Add(value);
            }
        }
    }

    /// <summary>Signals when a progress record shows a file's bytes moving (a child record with some percent done),
    /// so that a test can stop a pipeline mid-copy without sleeping.</summary>
    public sealed class ProgressWatcher : IDisposable
    {
        private readonly PSDataCollection<ProgressRecord> _records;
        private readonly ManualResetEventSlim _moving = new ManualResetEventSlim(false);

        public ProgressWatcher(PSDataCollection<ProgressRecord> records)
        {
            _records = records;
            _records.DataAdded += OnDataAdded;
        }

        public ProgressRecord Seen { get; private set; }

        public bool WaitForBytesMoving(TimeSpan timeout, WaitHandle alsoStopOn)
        {
            int which = WaitHandle.WaitAny(new[] { _moving.WaitHandle, alsoStopOn }, timeout);
            return which == 0;
        }

        private void OnDataAdded(object sender, DataAddedEventArgs e)
        {
            ProgressRecord record = _records[e.Index];
            if (record.ParentActivityId >= 0 && record.RecordType == ProgressRecordType.Processing && record.PercentComplete > 0
                && record.PercentComplete < 100)
            {
                Seen = record;
                _moving.Set();
            }
        }

        public void Dispose()
        {
            _records.DataAdded -= OnDataAdded;
            _moving.Dispose();
        }
    }

    /// <summary>Signals when an output collection receives an item with a given RelativePath and Action (a SyncItem), so
    /// that a test of a long-running pipeline (-Watch) can wait for what it expects without sleeping.</summary>
    public sealed class ItemWatcher : IDisposable
    {
        private readonly PSDataCollection<PSObject> _items;
        private readonly object _gate = new object();
        private readonly List<string> _seen = new List<string>();

        public ItemWatcher(PSDataCollection<PSObject> items)
        {
            _items = items;
            _items.DataAdded += OnDataAdded;
        }

        /// <summary>Every item seen so far, as "Action RelativePath".</summary>
        public string[] Seen
        {
            get
            {
                lock (_gate)
                {
                    return _seen.ToArray();
                }
            }
        }

        /// <summary>True once an item "Action RelativePath" has been seen; false when <paramref name="timeout"/> passed or
        /// <paramref name="alsoStopOn"/> was set first (the pipeline ended).</summary>
        public bool WaitFor(string action, string relativePath, TimeSpan timeout, WaitHandle alsoStopOn)
        {
            string wanted = action + " " + relativePath;
            DateTime until = DateTime.UtcNow + timeout;
            lock (_gate)
            {
                while (!_seen.Contains(wanted))
                {
                    TimeSpan left = until - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero || alsoStopOn.WaitOne(0))
                    {
                        return false;
                    }

                    // Woken by each new item; the pipeline's end is checked at least every second.
                    Monitor.Wait(_gate, left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
                }

                return true;
            }
        }

        private void OnDataAdded(object sender, DataAddedEventArgs e)
        {
            PSObject item = _items[e.Index];
            lock (_gate)
            {
                _seen.Add(item.Properties["Action"]?.Value + " " + item.Properties["RelativePath"]?.Value);
                Monitor.PulseAll(_gate);
            }
        }

        public void Dispose() => _items.DataAdded -= OnDataAdded;
    }
}
