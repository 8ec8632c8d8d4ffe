using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>A text column to train or evaluate on, with a description for the console.</summary>
/// <param name="Data">The rows (streamed from disk, not held in memory).</param>
/// <param name="Column">Name of the text column in <paramref name="Data"/>.</param>
/// <param name="Description">E.g. "3 *.txt files in data/raw/en (one row per line)".</param>
public sealed record TextSource(IDataView Data, string Column, string Description);

/// <summary>
/// Reads the text inputs every command accepts: a plain text file (one row per line), a folder of
/// <c>*.txt</c> files, or a tab-separated file with a header and a named column. Paths and the TSV
/// layout are checked up front (<see cref="PathChecks"/>, <see cref="TsvLayout"/>).
/// </summary>
public static class TextInput
{
    /// <summary>The column name given to plain-text rows.</summary>
    public const string DefaultColumn = "Text";

    /// <summary>
    /// Opens <paramref name="path"/> as text rows. It is a TSV when it ends in <c>.tsv</c> or
    /// <paramref name="tsvColumn"/> is given; the rows then come from that column (default "Text").
    /// <paramref name="maxRows"/> &gt; 0 keeps only the first rows.
    /// </summary>
    public static TextSource Open(MLContext ml, string? path, string option, string? tsvColumn = null, long maxRows = 0)
    {
        bool isTsv = tsvColumn is not null || (path is not null && path.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase));
        TextSource source;
        if (isTsv)
        {
            string file = PathChecks.InputFile(path, option);
            string column = tsvColumn ?? DefaultColumn;
            var layout = TsvLayout.Read(file, column);
            var data = ml.Data.LoadFromTextFile(file, new[] { new TextLoader.Column(column, DataKind.String, layout.IndexOf(column)) },
                separatorChar: '\t', hasHeader: true, allowQuoting: false, trimWhitespace: false);
            source = new TextSource(data, column, $"column '{column}' of {file}");
        }
        else
        {
            var files = PathChecks.InputFileOrFolder(path, option, "*.txt");
            // Lazy enumeration: LoadFromEnumerable re-reads the files for every cursor, so a large corpus is never held in memory.
            var data = ml.Data.LoadFromEnumerable(files.SelectMany(File.ReadLines).Select(l => new TextRow { Text = l }));
            string where = files.Count == 1 ? files[0] : $"{files.Count} *.txt files in {Path.GetDirectoryName(files[0])}";
            source = new TextSource(data, DefaultColumn, $"{where} (one row per line)");
        }
        return maxRows > 0 ? source with { Data = ml.Data.TakeRows(source.Data, maxRows), Description = source.Description + $", first {maxRows} rows" } : source;
    }
}

/// <summary>One line of a text file (public because ML.NET binds the row type by reflection).</summary>
public sealed class TextRow
{
    /// <summary>The line.</summary>
    public string Text { get; set; } = "";
}
