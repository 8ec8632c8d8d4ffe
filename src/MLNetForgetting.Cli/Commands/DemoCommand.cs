using System.CommandLine;
using MLNetForgetting.Cli.Demo;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.Synthetic;
using Spectre.Console;

namespace MLNetForgetting.Cli.Commands;

/// <summary><c>mlnf demo</c>: the pipeline end to end at a small size, stage by stage (<see cref="DemoStages.All"/>).</summary>
public static class DemoCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliHost host)
    {
        var output = CliOptions.Output("--output", "Folder for the demo's data, models, histories, plots and summary", required: false, aliases: "-o");
        output.DefaultValueFactory = _ => "mlnf-demo";
        var data = CliOptions.Input("--data", "A dataset folder in the shared-data layout (English text in raw/en/*.txt) instead of the built-in synthetic data", required: false);
        var steps = CliOptions.OptionalNumber<long>("--steps", "Updates per pretraining run (default 400)").AtLeast(1);
        var k = CliOptions.OptionalNumber<long>("--k", "K of the forgetting run (default 20)", "K").AtLeast(1);
        var seed = CliOptions.Seed();
        // Tests and smoke checks: a few updates on a few hundred sentences.
        var quick = new Option<bool>("--quick") { Hidden = true, Description = "Tiny sizes for tests" };

        var command = new Command("demo", "Run the pipeline end to end at a small size: pretrain a standard and an active-forgetting model on English, then plot their loss curves with the resets marked, and summarise.")
        {
            output, data, steps, k, seed, quick,
        };
        command.WithExamples(
            "mlnf demo --output demo",
            "mlnf demo --output demo --data ../shared/data --steps 1000 --k 50");

        return host.SetAction(command, (parse, context) =>
        {
            string folder = PathChecks.OutputFolder(parse.GetValue(output), "--output");
            string? dataFolder = null;
            if (parse.GetValue(data) is { } d)
            {
                dataFolder = PathChecks.InputFolder(d, "--data");
                string english = Path.Combine(dataFolder, "raw", "en");
                if (!Directory.Exists(english) || !Directory.EnumerateFiles(english, "*.txt").Any())
                    throw new CliUsageException($"--data '{d}' has no raw/en/*.txt (expected the shared-data layout: raw/{{language}}/*.txt)");
            }
            var size = parse.GetValue(quick) ? DemoSize.Quick : DemoSize.Default;
            size = size with { Steps = parse.GetValue(steps) ?? size.Steps, ResetInterval = parse.GetValue(k) ?? size.ResetInterval };
            int runSeed = parse.GetValue(seed);
            var demo = new DemoContext(context, context.CreateMLContext(runSeed), folder, dataFolder, size, runSeed);

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
            File.WriteAllText(demo.File("summary.md"), "# mlnf demo\n\n" + demo.Summary.ToMarkdown());
            File.WriteAllText(demo.File("summary.csv"), demo.Summary.ToCsv());
            context.WriteLine($"Everything is in {folder} (summary.md, summary.csv).");
            return ExitCodes.Success;
        });
    }
}
