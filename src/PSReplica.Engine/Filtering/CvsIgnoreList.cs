namespace PSReplica.Engine.Filtering;

/// <summary>The rules rsync's -C (--cvs-exclude) adds: CVS's default ignore names (perishable, so they never keep a
/// directory that is being deleted), then the words of $HOME/.cvsignore, then the words of $CVSIGNORE.</summary>
internal static class CvsIgnoreList
{
    /// <summary>The default list as rsync's manual gives it under --cvs-exclude.</summary>
    public static readonly string[] DefaultNames =
    [
        "RCS", "SCCS", "CVS", "CVS.adm", "RCSLOG", "cvslog.*", "tags", "TAGS", ".make.state", ".nse_depinfo",
        "*~", "#*", ".#*", ",*", "_$*", "*$", "*.old", "*.bak", "*.BAK", "*.orig", "*.rej", ".del-*", "*.a",
        "*.olb", "*.o", "*.obj", "*.so", "*.exe", "*.Z", "*.elc", "*.ln", "core", ".svn/", ".git/", ".hg/", ".bzr/",
    ];

    public const string DefaultSource = "CVS default ignore list";

    /// <summary>Adds the list's rules with <paramref name="type"/> and the rule's other modifiers.</summary>
    public static void AddTo(List<FilterRule> rules, FilterRuleType type, FilterModifiers modifiers)
    {
        modifiers &= ~(FilterModifiers.Cvs | FilterModifiers.Negate);
        int line = 0;
        foreach (string name in DefaultNames)
        {
            rules.Add(new FilterRule(type, name, modifiers | FilterModifiers.Perishable, DefaultSource, ++line));
        }

        string? home = Environment.GetEnvironmentVariable("HOME");
        if (!string.IsNullOrEmpty(home))
        {
            string file = Path.Join(home, ".cvsignore");
            if (File.Exists(file))
            {
                AddWords(rules, type, modifiers, File.ReadAllText(file), file);
            }
        }

        string? variable = Environment.GetEnvironmentVariable("CVSIGNORE");
        if (!string.IsNullOrEmpty(variable))
        {
            AddWords(rules, type, modifiers, variable, "$CVSIGNORE");
        }
    }

    private static void AddWords(List<FilterRule> rules, FilterRuleType type, FilterModifiers modifiers, string text, string source)
    {
        int line = 1;
        foreach (string word in text.Split([' ', '\t', '\r', '\n', '\f', '\v'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (word == "!")
            {
                rules.Clear();
                continue;
            }

            rules.Add(new FilterRule(type, word, modifiers, source, line++));
        }
    }
}
