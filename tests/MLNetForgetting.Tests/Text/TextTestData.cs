using MLNetForgetting.Text;

namespace MLNetForgetting.Tests.Text;

/// <summary>Finds shared/data (or $MLNF_DATA) and reads bounded samples from it.</summary>
internal static class TextTestData
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>
    /// The shared data folder (containing raw/ and xnli/). When it is absent (a clone without ../shared)
    /// the test reports Inconclusive naming the path it looked for: real-data tests cannot run there, and
    /// that is not a failure of the code. CI has the data and runs them.
    /// </summary>
    public static string DataRoot => Root.Value;

    private static string FindRoot()
    {
        string? env = Environment.GetEnvironmentVariable("MLNF_DATA");
        if (!string.IsNullOrWhiteSpace(env))
        {
            if (Directory.Exists(env)) return env;
            Assert.Inconclusive($"Real data missing: MLNF_DATA is set to '{env}', which is not a directory.");
        }
        // The repository is <X>/main (or a worktree/CI clone) and the data is <X>/shared/data.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(Path.Combine(candidate, "raw"))) return candidate;
        }
        Assert.Inconclusive($"Real data missing: no shared/data/raw in {AppContext.BaseDirectory} or any folder above it (the repository expects ../shared/data beside it). Set MLNF_DATA to the data folder to run this test.");
        return null!;
    }

    public static string[] RawLanguages() =>
        [.. Directory.GetDirectories(Path.Combine(DataRoot, "raw")).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

    public static string[] XnliDevFiles() =>
        [.. Directory.GetFiles(Path.Combine(DataRoot, "xnli", "dev"), "dev.*.tsv").Order(StringComparer.Ordinal)];

    /// <summary>Non-blank lines of every .txt file of a raw language folder, files in ordinal order.</summary>
    public static IEnumerable<string> RawLines(string language)
    {
        foreach (string file in Directory.GetFiles(Path.Combine(DataRoot, "raw", language), "*.txt").Order(StringComparer.Ordinal))
        {
            foreach (string line in File.ReadLines(file))
            {
                if (!string.IsNullOrWhiteSpace(line)) yield return line;
            }
        }
    }

    /// <summary>Premises and hypotheses of an XNLI dev file (header skipped).</summary>
    public static IEnumerable<string> XnliSentences(string path)
    {
        foreach (string line in File.ReadLines(path).Skip(1))
        {
            string[] columns = line.Split('\t');
            if (columns.Length >= 2)
            {
                yield return columns[0];
                yield return columns[1];
            }
        }
    }

    /// <summary>
    /// Every <paramref name="holdOutEvery"/>-th line goes to the held-out set, the rest to training,
    /// until both character budgets are spent.
    /// </summary>
    public static (List<string> Train, List<string> HeldOut) Split(IEnumerable<string> lines, int trainChars, int heldOutChars, int holdOutEvery = 10)
    {
        var train = new List<string>();
        var heldOut = new List<string>();
        long t = 0, h = 0;
        int index = 0;
        foreach (string line in lines)
        {
            if (index++ % holdOutEvery == holdOutEvery - 1)
            {
                if (h < heldOutChars) { heldOut.Add(line); h += line.Length; }
            }
            else if (t < trainChars)
            {
                train.Add(line); t += line.Length;
            }
            if (t >= trainChars && h >= heldOutChars) break;
        }
        return (train, heldOut);
    }

    private static readonly Lazy<SubwordTokenizer> English = new(() =>
    {
        var (train, _) = Split(RawLines("en"), 400_000, 0);
        return BpeVocabularyTrainer.Train(train, new BpeTrainerOptions { VocabSize = 2000 });
    });

    /// <summary>A 2000-token BPE trained once on ~400k characters of English raw text.</summary>
    public static SubwordTokenizer EnglishTokenizer => English.Value;

    /// <summary>English held-out lines (not in <see cref="EnglishTokenizer"/>'s training sample).</summary>
    public static List<string> EnglishHeldOut(int chars) => Split(RawLines("en"), 400_000, chars).HeldOut;
}
