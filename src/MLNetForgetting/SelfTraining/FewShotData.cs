using System.Globalization;

namespace MLNetForgetting.SelfTraining;

/// <summary>One task example: its text(s) (one for single-sentence tasks, two for pairs) and its label (null when unlabelled).</summary>
/// <param name="Texts">Sentence 0 (and sentence 1 for pair tasks).</param>
/// <param name="Label">The label as written in the data ("entailment", "0", ...), or null.</param>
internal sealed record FewShotExample(IReadOnlyList<string> Texts, string? Label)
{
    /// <summary>Key for deduplication: the texts joined by a tab, trimmed.</summary>
    internal string TextKey => string.Join("\t", Texts.Select(t => t.Trim()));
}

/// <summary>
/// Loads the LiST data under <c>shared/data</c> (see data/SOURCES.md): few-shot splits
/// <c>list/{TASK}/{K}-{seed}/train.tsv</c>, the test file <c>list/{TASK}/test_clue.tsv</c> and the
/// unlabelled pool <c>glue_pools/{TASK}/train.tsv</c>. Columns are found by header name: pair tasks
/// read <c>text_a</c>/<c>text_b</c>, single tasks <c>text</c> or <c>sentence</c>; <c>label</c> is the label.
/// </summary>
internal static class FewShotData
{
    /// <summary>The labelled K-shot split of seed <paramref name="seed"/>.</summary>
    public static List<FewShotExample> LoadLabelled(string dataRoot, string task, int k, int seed) =>
        ReadTsv(Path.Combine(dataRoot, "list", TaskFolder(dataRoot, "list", task), $"{k}-{seed}", "train.tsv"));

    /// <summary>The test set (<c>test_clue.tsv</c>, about 210 rows).</summary>
    public static List<FewShotExample> LoadTest(string dataRoot, string task) =>
        ReadTsv(Path.Combine(dataRoot, "list", TaskFolder(dataRoot, "list", task), "test_clue.tsv"));

    /// <summary>
    /// The unlabelled pool: the texts of <c>glue_pools/{TASK}/train.tsv</c> with labels dropped, minus
    /// every row whose texts equal a labelled row's (the pools overlap the LiST splits; docs/methods.md §3.5),
    /// optionally capped at the first <paramref name="maxRows"/> rows kept.
    /// </summary>
    public static List<FewShotExample> LoadUnlabelledPool(string dataRoot, string task, IEnumerable<FewShotExample> labelled, int? maxRows = null)
    {
        var exclude = labelled.Select(e => e.TextKey).ToHashSet(StringComparer.Ordinal);
        var pool = ReadTsv(Path.Combine(dataRoot, "glue_pools", TaskFolder(dataRoot, "glue_pools", task), "train.tsv"))
            .Where(e => !exclude.Contains(e.TextKey))
            .Select(e => e with { Label = null });
        return (maxRows is { } m ? pool.Take(m) : pool).ToList();
    }

    /// <summary>Reads a header-first TSV of single or pair examples.</summary>
    /// <exception cref="InvalidDataException">No text or label column, or a row with the wrong number of fields.</exception>
    public static List<FewShotExample> ReadTsv(string path)
    {
        using var reader = new StreamReader(path);
        string header = reader.ReadLine() ?? throw new InvalidDataException($"{path} is empty.");
        var columns = header.Split('\t');
        int Col(string name) => Array.FindIndex(columns, c => string.Equals(c.Trim(), name, StringComparison.OrdinalIgnoreCase));
        int a = Col("text_a"), b = Col("text_b"), label = Col("label");
        int[] textColumns = a >= 0 && b >= 0 ? [a, b] : Col("text") is >= 0 and var t ? [t] : Col("sentence") is >= 0 and var s ? [s] : [];
        if (textColumns.Length == 0 || label < 0)
            throw new InvalidDataException($"{path}: expected columns text_a/text_b/label or text|sentence/label; the header is '{header}'.");
        var result = new List<FewShotExample>();
        int lineNumber = 1;
        for (string? line; (line = reader.ReadLine()) is not null;)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var fields = line.Split('\t');
            if (fields.Length != columns.Length)
                throw new InvalidDataException($"{path}, line {lineNumber}: {fields.Length} fields, the header has {columns.Length}.");
            result.Add(new FewShotExample(textColumns.Select(c => fields[c]).ToArray(), fields[label].Trim()));
        }
        return result;
    }

    private static string TaskFolder(string dataRoot, string kind, string task)
    {
        string dir = Path.Combine(dataRoot, kind);
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"No '{kind}' folder under {dataRoot}.");
        string canonical = task.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();
        return Directory.GetDirectories(dir).Select(Path.GetFileName).OfType<string>()
            .FirstOrDefault(d => d.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant() == canonical)
            ?? throw new DirectoryNotFoundException($"No task folder '{task}' under {dir}.");
    }
}

/// <summary>Mean ± standard deviation over seeds, as LiST reports (numpy's std: population, ddof = 0).</summary>
/// <param name="Mean">Mean.</param>
/// <param name="Std">Population standard deviation.</param>
/// <param name="Count">Number of values.</param>
internal sealed record SeedSummary(double Mean, double Std, int Count)
{
    /// <summary>Summarises <paramref name="values"/> (at least one).</summary>
    public static SeedSummary Of(IEnumerable<double> values)
    {
        var v = values.ToArray();
        if (v.Length == 0) throw new ArgumentException("No values to summarise.", nameof(values));
        double mean = v.Average();
        double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length);
        return new SeedSummary(mean, std, v.Length);
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Mean:F4} ± {Std:F4} (n={Count})");
}
