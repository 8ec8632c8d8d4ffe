using System.Text;
using Spectre.Console;

namespace MLNetForgetting.Cli.Reporting;

/// <summary>
/// A small table of results shown on the console (Spectre) and exported for reports as Markdown and
/// CSV, so every command summarises the same way.
/// </summary>
public sealed class ReportTable(string title, params string[] columns)
{
    private readonly List<string[]> _rows = new();

    /// <summary>Caption on the console and heading in Markdown.</summary>
    public string Title { get; } = title;

    /// <summary>Column headers.</summary>
    public IReadOnlyList<string> Columns { get; } = columns;

    /// <summary>Rows as text, one cell per column.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Rows => _rows;

    /// <summary>Adds a row; it must have one cell per column.</summary>
    public ReportTable Add(params string[] cells)
    {
        if (cells.Length != Columns.Count) throw new ArgumentException($"A row of '{Title}' needs {Columns.Count} cells, got {cells.Length}.", nameof(cells));
        _rows.Add(cells);
        return this;
    }

    /// <summary>A Spectre table for <see cref="IAnsiConsole.Write(Spectre.Console.Rendering.IRenderable)"/>.</summary>
    public Table ToSpectre()
    {
        var table = new Table().Title(Markup.Escape(Title)).Border(TableBorder.Rounded);
        foreach (var c in Columns) table.AddColumn(new TableColumn(Markup.Escape(c)));
        foreach (var r in _rows) table.AddRow(r.Select(Markup.Escape).ToArray());
        return table;
    }

    /// <summary>A Markdown section: "## title" and a pipe table.</summary>
    public string ToMarkdown()
    {
        static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
        var sb = new StringBuilder();
        sb.Append("## ").Append(Title).Append("\n\n");
        sb.Append("| ").Append(string.Join(" | ", Columns.Select(Cell))).Append(" |\n");
        sb.Append('|').Append(string.Join("|", Columns.Select(_ => "---"))).Append("|\n");
        foreach (var r in _rows) sb.Append("| ").Append(string.Join(" | ", r.Select(Cell))).Append(" |\n");
        return sb.ToString();
    }

    /// <summary>RFC 4180 CSV with a header row.</summary>
    public string ToCsv()
    {
        static string Cell(string s) => s.IndexOfAny(new[] { ',', '"', '\n', '\r' }) >= 0 ? $"\"{s.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : s;
        var sb = new StringBuilder();
        sb.Append(string.Join(",", Columns.Select(Cell))).Append('\n');
        foreach (var r in _rows) sb.Append(string.Join(",", r.Select(Cell))).Append('\n');
        return sb.ToString();
    }
}
