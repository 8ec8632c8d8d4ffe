namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>
/// The header of a tab-separated file and a check that it has the columns a command needs, so a
/// wrong file fails with the columns it does have ("'x.tsv' has no column 'premise'; its columns are …").
/// </summary>
public sealed class TsvLayout
{
    private TsvLayout(string path, IReadOnlyList<string> columns) { Path = path; Columns = columns; }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Column names from the header line, in file order.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>Zero-based position of <paramref name="column"/> (ordinal, case-sensitive as ML.NET column names are).</summary>
    public int IndexOf(string column) => Columns.ToList().IndexOf(column);

    /// <summary>Maximum data lines <see cref="Read"/> checks for a consistent number of fields (the rest is checked while streaming).</summary>
    public const int LinesChecked = 1000;

    /// <summary>
    /// Reads the header of <paramref name="path"/> and requires <paramref name="required"/>; then checks
    /// that the first <see cref="LinesChecked"/> data lines have enough fields for the required columns.
    /// </summary>
    public static TsvLayout Read(string path, params string[] required)
    {
        using var reader = new StreamReader(path);
        string? header = reader.ReadLine();
        if (header is null) throw new CliUsageException($"'{path}' is empty; expected a tab-separated header line with column(s) {Quote(required)}");
        if (string.IsNullOrWhiteSpace(header)) throw new CliUsageException($"'{path}' starts with an empty line; expected a tab-separated header line with column(s) {Quote(required)}");
        var columns = header.TrimStart('\uFEFF').Split('\t').Select(c => c.Trim()).ToArray();
        var layout = new TsvLayout(path, columns);
        var missing = required.Where(r => layout.IndexOf(r) < 0).ToArray();
        if (missing.Length > 0)
        {
            string has = columns.Length == 1 ? $"its header has one column '{columns[0]}' (is it tab-separated?)" : $"its columns are {Quote(columns)}";
            throw new CliUsageException($"'{path}' has no column {Quote(missing)}; {has}");
        }
        int needed = required.Length == 0 ? 0 : required.Max(layout.IndexOf) + 1;
        string? line;
        for (int lineNumber = 2; lineNumber < 2 + LinesChecked && (line = reader.ReadLine()) is not null; lineNumber++)
        {
            if (line.Length == 0) continue;
            int fields = line.Count(c => c == '\t') + 1;
            if (fields < needed)
                throw new CliUsageException($"'{path}' line {lineNumber} has {fields} field(s); column '{required.First(r => layout.IndexOf(r) >= fields)}' needs at least {needed}");
        }
        return layout;
    }

    private static string Quote(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));
}
