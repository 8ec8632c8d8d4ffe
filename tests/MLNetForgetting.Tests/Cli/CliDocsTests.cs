using System.CommandLine;
using System.Text.RegularExpressions;
using MLNetForgetting.Cli;
using MLNetForgetting.Cli.Infrastructure;

namespace MLNetForgetting.Tests.Cli;

/// <summary>docs/cli.md keeps up with the commands, and an option has one name across commands.</summary>
[TestClass]
public sealed class CliDocsTests
{
    private static IReadOnlyList<Command> Commands()
    {
        var host = new CliHost(TextWriter.Null, TextWriter.Null, false, CancellationToken.None, CliOptions.Verbose());
        return MlnfCli.Commands.Select(create => create(host)).ToList();
    }

    private static string Section(string command)
    {
        string? path = null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null && path is null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "docs", "cli.md"))) path = Path.Combine(dir.FullName, "docs", "cli.md");
        if (path is null) throw new AssertInconclusiveException("docs/cli.md not found above " + AppContext.BaseDirectory);
        string text = File.ReadAllText(path);
        int start = text.IndexOf($"### `mlnf {command}`", StringComparison.Ordinal);
        Assert.IsGreaterThanOrEqualTo(0, start, $"docs/cli.md has no section for {command}");
        int end = text.IndexOf("\n### ", start + 5, StringComparison.Ordinal);
        return end < 0 ? text[start..] : text[start..end];
    }

    [TestMethod]
    [DataRow("pretrain")]
    [DataRow("finetune")]
    [DataRow("assemble")]
    public void Every_option_of_the_command_is_in_docs_cli_md(string name)
    {
        var command = Commands().Single(c => c.Name == name);
        string section = Section(name);
        var missing = command.Options.Where(o => !o.Hidden)
            .Where(o => !Regex.IsMatch(section, Regex.Escape(o.Name) + "(?![a-z-])")).Select(o => o.Name).ToList();
        Assert.IsEmpty(missing, $"docs/cli.md, section mlnf {name}, does not name: {string.Join(", ", missing)}");
    }

    [TestMethod]
    public void The_training_input_has_one_name_across_commands()
    {
        var commands = Commands();
        var withTrain = commands.Where(c => c.Options.Any(o => o.Name == "--train" || o.Aliases.Contains("--train"))).Select(c => c.Name).ToList();
        Assert.IsEmpty(withTrain, "commands that still call their input --train: " + string.Join(", ", withTrain));
        foreach (var name in new[] { "pretrain", "relearn", "finetune", "list" })
            Assert.IsTrue(commands.Single(c => c.Name == name).Options.Any(o => o.Name == "--input"), $"{name} has no --input");
    }
}
