using MLNetForgetting.Training;
using System.CommandLine;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Cli.Reporting;

namespace MLNetForgetting.Cli.Commands;

/// <summary><c>mlnf plot</c>: loss or validation curves of saved training histories, with the embedding resets marked.</summary>
public static class PlotCommand
{
    private static readonly string[] Kinds = { "loss", "validation" };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliHost host)
    {
        var histories = new Option<string[]>("--history")
        {
            Description = "A history to draw: .csv or .json written by pretrain, or a model .zip (repeat for several curves)",
            Required = true, HelpName = "path", AllowMultipleArgumentsPerToken = true,
        };
        var output = CliOptions.Output("--output", "The image to write: .png or .svg", aliases: "-o");
        var kind = new Option<string>("--kind") { Description = "loss: training loss per update; validation: a validation metric per evaluation", DefaultValueFactory = _ => "loss" }.OneOf(Kinds);
        var metric = new Option<string>("--metric") { Description = "Validation metric for --kind validation (e.g. loss, accuracy)", DefaultValueFactory = _ => "loss", HelpName = "name" };
        var smooth = CliOptions.Number("--smooth", "Average the training loss over this many updates (1: raw)", 1).AtLeast(1);
        var title = new Option<string?>("--title") { Description = "Chart title (default: what is drawn)", HelpName = "text" };
        var reference = new Option<string[]>("--reference")
        {
            Description = "A horizontal reference line, value=label (e.g. the corpus's unigram entropy: '7.04=unigram entropy'); repeat for several",
            HelpName = "value=label", AllowMultipleArgumentsPerToken = false,
        };
        var width = CliOptions.Number("--width", "Image width in pixels", 1000).AtLeast(200);
        var height = CliOptions.Number("--height", "Image height in pixels", 600).AtLeast(150);

        var command = new Command("plot", "Draw training curves from saved histories, one line per history (legend: its file name), with dashed marks at embedding resets.")
        {
            histories, output, kind, metric, smooth, title, reference, width, height,
        };
        command.WithExamples(
            "mlnf plot --history std.history.csv --history forget.history.csv --output loss.png --smooth 20",
            "mlnf plot --history forget.zip --output val.svg --kind validation --metric accuracy",
            "mlnf plot --history a.history.csv --history b.history.csv --kind validation --output relearn.png --reference '7.04=unigram entropy'");

        return host.SetAction(command, (parse, context) =>
        {
            string outputPath = PathChecks.OutputFile(parse.GetValue(output), "--output");
            string extension = Path.GetExtension(outputPath).ToLowerInvariant();
            if (extension is not (".png" or ".svg")) throw new CliUsageException($"--output '{parse.GetValue(output)}' must end in .png or .svg");
            var references = (parse.GetValue(reference) ?? []).Select(ParseReference).ToList();
            var paths = parse.GetValue(histories)!;
            foreach (var p in paths) PathChecks.InputFile(p, "--history"); // all missing files fail before any model is loaded
            var ml = context.CreateMLContext(seed: 0);
            var series = paths.Select(p => new HistoryPlot.Series(Path.GetFileName(p), HistoryFiles.Load(ml, p))).ToList();
            var plotKind = CliOptions.Canonical(parse.GetValue(kind)!, Kinds) == "loss" ? PlotKind.Loss : PlotKind.Validation;
            HistoryPlot.Save(series, outputPath, plotKind, parse.GetValue(smooth), parse.GetValue(metric)!, parse.GetValue(title), parse.GetValue(width), parse.GetValue(height), references);
            context.WriteLine($"Plot: {outputPath} ({series.Count} histor{(series.Count == 1 ? "y" : "ies")}, {series.Sum(s => s.History.Events.Count(e => e.Kind == HistoryNames.ResetEvent))} reset marks)");
            return ExitCodes.Success;
        });
    }

    private static (double, string) ParseReference(string spec)
    {
        int eq = spec.IndexOf('=');
        string number = eq < 0 ? spec : spec[..eq];
        if (!double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
            throw new CliUsageException($"--reference '{spec}' must be value=label with a number before '=', e.g. '7.04=unigram entropy'");
        return (value, eq < 0 || eq == spec.Length - 1 ? $"reference {number}" : spec[(eq + 1)..]);
    }
}
