namespace PSReplica.Fuzz.Tests.Harness;

/// <summary>The seeds of a target: the files kept in tests/Fuzz/corpus/&lt;target&gt;/ (copied beside the test assembly),
/// then the inputs the real encoders write now.</summary>
internal static class Corpus
{
    public static string CommittedDirectory(string target) => Path.Combine(AppContext.BaseDirectory, "corpus", target);

    public static List<byte[]> Committed(string target)
    {
        var seeds = new List<byte[]>();
        string directory = CommittedDirectory(target);
        if (Directory.Exists(directory))
        {
            string[] files = Directory.GetFiles(directory);
            Array.Sort(files, StringComparer.Ordinal);
            foreach (string file in files)
            {
                seeds.Add(File.ReadAllBytes(file));
            }
        }

        return seeds;
    }

    /// <summary>The committed files and the encoders' inputs, each distinct input once.</summary>
    public static List<byte[]> Seeds(FuzzTarget target)
    {
        var seeds = new List<byte[]>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (byte[] seed in Committed(target.Name).Concat(target.Seeds()))
        {
            if (seen.Add(Convert.ToBase64String(seed)))
            {
                seeds.Add(seed);
            }
        }

        return seeds;
    }

    /// <summary>Writes the encoders' seeds as tests/Fuzz/corpus/&lt;target&gt;/seed-NN files (replacing earlier seed files;
    /// other files, such as crash inputs kept as seeds, stay).</summary>
    public static int Write(FuzzTarget target, string root)
    {
        string directory = Path.Combine(root, target.Name);
        Directory.CreateDirectory(directory);
        foreach (string old in Directory.GetFiles(directory, "seed-*"))
        {
            File.Delete(old);
        }

        int n = 0;
        foreach (byte[] seed in target.Seeds())
        {
            File.WriteAllBytes(Path.Combine(directory, $"seed-{n++:00}{(target.IsText ? ".txt" : ".bin")}"), seed);
        }

        return n;
    }
}
