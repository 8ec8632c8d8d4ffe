using System.CommandLine;
using MLNetForgetting.Cli.Demo;
using MLNetForgetting.Cli.Infrastructure;
using Spectre.Console;

namespace MLNetForgetting.Cli.Commands;

/// <summary><c>mlnf demo</c>: the pipeline end to end at a small size, stage by stage (<see cref="DemoStages.All"/>).</summary>
public static class DemoCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliHost host)
    {
        var output = CliOptions.Output("--output", "Folder for the demo's data, models, histories, plots and tables", required: false, aliases: "-o");
        output.DefaultValueFactory = _ => "mlnf-demo";
        var data = CliOptions.Input("--data", "A dataset folder in the shared-data layout (raw/{lang}/*.txt, glue_pools/MNLI/train.tsv, xnli/dev/dev.{lang}.tsv) instead of the built-in synthetic testbed", required: false);
        var languages = new Option<string?>("--languages") { Description = "Target languages, comma-separated (default: two synthetic languages; with --data: de,sw)", HelpName = "de,sw" };
        var size = new Option<string>("--size") { Description = "default: the whole story in under 10 minutes on 2 cores; tiny: every stage with a few updates (tests; not meaningful)", DefaultValueFactory = _ => "default" }.OneOf("default", "tiny");
        var steps = CliOptions.OptionalNumber<long>("--steps", "Updates per pretraining run (default 500)").AtLeast(1);
        var k = CliOptions.OptionalNumber<long>("--k", "K of the forgetting run (default: the --size preset's, 100 at the default size)", "K").AtLeast(1);
        var seed = CliOptions.Seed();

        var command = new Command("demo", "Run the whole story at a small size: pretrain a standard and an active-forgetting model on English, fine-tune both on English NLI, relearn two new languages at a low budget (tracking zero-shot accuracy), assemble, evaluate per language, and a short LiST run; prints the tables and writes plots, Markdown and CSV.")
        {
            output, data, languages, size, steps, k, seed,
        };
        command.WithExamples(
            "mlnf demo",
            "mlnf demo --output demo --size tiny",
            "mlnf demo --output demo-real --data ../shared/data --languages de,sw");

        return host.SetAction(command, (parse, context) =>
        {
            string folder = PathChecks.OutputFolder(parse.GetValue(output), "--output");
            string? dataFolder = null;
            IReadOnlyList<string> codes = Array.Empty<string>();
            if (parse.GetValue(languages) is { } list)
                codes = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(c => LanguageCodes.Check(c, "--languages")).ToArray();
            if (parse.GetValue(data) is { } d)
            {
                dataFolder = PathChecks.InputFolder(d, "--data");
                if (codes.Count == 0) codes = new[] { "de", "sw" };
                foreach (var required in new[] { Path.Combine("raw", "en"), Path.Combine("glue_pools", "MNLI", "train.tsv"), Path.Combine("xnli", "dev", "dev.en.tsv") }
                    .Concat(codes.SelectMany(c => new[] { Path.Combine("raw", c), Path.Combine("xnli", "dev", $"dev.{c}.tsv") })))
                    if (!Directory.Exists(Path.Combine(dataFolder, required)) && !File.Exists(Path.Combine(dataFolder, required)))
                        throw new CliUsageException($"--data '{d}' has no {required} (expected the shared-data layout: raw/{{lang}}/*.txt, glue_pools/MNLI/train.tsv, xnli/dev/dev.{{lang}}.tsv)");
            }
            else if (codes.FirstOrDefault(c => !LanguageCodes.Synthetic.Contains(c) || c == "en") is { } notSynthetic)
                throw new CliUsageException($"--languages '{notSynthetic}' is not a target language of the synthetic testbed ({string.Join(", ", LanguageCodes.Synthetic.Skip(1))}); real languages need --data");
            var runSize = DemoSize.Named(parse.GetValue(size)!);
            // Real text needs a larger vocabulary than the synthetic languages' few hundred words.
            if (dataFolder is not null) runSize = runSize with { VocabularySize = Math.Max(runSize.VocabularySize, 4000) };
            runSize = runSize with { Steps = parse.GetValue(steps) ?? runSize.Steps, ResetInterval = parse.GetValue(k) ?? runSize.ResetInterval };
            int runSeed = parse.GetValue(seed);
            var demo = new DemoContext(context, context.CreateMLContext(runSeed), folder, dataFolder, runSize, runSeed) { Languages = codes };
            var watch = System.Diagnostics.Stopwatch.StartNew();

            var stages = DemoStages.All;
            for (int i = 0; i < stages.Count; i++)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                string heading = $"[{i + 1}/{stages.Count}] {stages[i].Name}";
                if (context.Interactive) context.Console.Write(new Rule(Markup.Escape(heading)).LeftJustified());
                else context.WriteLine("== " + heading);
                stages[i].Run(demo);
            }

            context.Console.Write(demo.Summary.ToSpectre());
            foreach (var table in demo.Tables) context.Console.Write(table.ToSpectre());
            File.WriteAllText(demo.File("summary.md"), "# mlnf demo\n\n" + demo.Summary.ToMarkdown() + string.Concat(demo.Tables.Select(t => "\n" + t.ToMarkdown())));
            File.WriteAllText(demo.File("summary.csv"), demo.Summary.ToCsv());
            context.WriteLine($"Everything is in {folder} (summary.md, summary.csv, evaluation.md, evaluation.csv, pretrain-loss.png, adaptation-curves.png); {watch.Elapsed.TotalSeconds:F0} s.");
            return ExitCodes.Success;
        });
    }
}
