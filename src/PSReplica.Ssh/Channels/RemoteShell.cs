using System.Text;

namespace PSReplica.Ssh;

/// <summary>Words for the remote login shell, which runs every exec request's command line.</summary>
public static class RemoteShell
{
    /// <summary>Quotes one word for a POSIX shell: <c>'it'\''s'</c>. Plain words stay bare.</summary>
    public static string Quote(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        if (word.Length > 0 && IsPlain(word))
        {
            return word;
        }

        return "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    /// <summary>Joins words into one command line, each quoted as needed.</summary>
    public static string Join(IEnumerable<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        var line = new StringBuilder();
        foreach (string word in words)
        {
            if (line.Length > 0)
            {
                line.Append(' ');
            }

            line.Append(Quote(word));
        }

        return line.ToString();
    }

    /// <summary>
    /// Splits a local command line (as rsync splits <c>-e</c>): whitespace separates words, single and double quotes
    /// group, a backslash escapes the next character outside single quotes. No variables, globs or tildes.
    /// </summary>
    /// <exception cref="SyncException">SshCommandFailed for an unclosed quote or an empty line.</exception>
    public static IReadOnlyList<string> SplitCommandLine(string commandLine)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        for (int i = 0; i < commandLine.Length; i++)
        {
            char c = commandLine[i];
            if (quote == '\'')
            {
                if (c == '\'')
                {
                    quote = '\0';
                }
                else
                {
                    word.Append(c);
                }
            }
            else if (c == '\\' && i + 1 < commandLine.Length && (quote == '\0' || commandLine[i + 1] is '"' or '\\'))
            {
                word.Append(commandLine[++i]);
                inWord = true;
            }
            else if (quote == '"')
            {
                if (c == '"')
                {
                    quote = '\0';
                }
                else
                {
                    word.Append(c);
                }
            }
            else if (c is '\'' or '"')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }

        if (quote != '\0')
        {
            throw new SyncException(ErrorIds.SshCommandFailed, SyncErrorKind.InvalidArgument, $"The ssh command line '{commandLine}' has an unclosed quote.", commandLine);
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        if (words.Count == 0)
        {
            throw new SyncException(ErrorIds.SshCommandFailed, SyncErrorKind.InvalidArgument, "The ssh command line is empty.", commandLine);
        }

        return words;
    }

    private static bool IsPlain(string word)
    {
        foreach (char c in word)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ',' or ':' or '=' or '+' or '@' or '%'))
            {
                return false;
            }
        }

        return true;
    }
}
