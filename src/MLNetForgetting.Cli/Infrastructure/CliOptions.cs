using System.CommandLine;
using System.Numerics;

namespace MLNetForgetting.Cli.Infrastructure;

/// <summary>
/// Option factories and validators shared by all commands, so the same option reads and fails the
/// same way everywhere (an invalid value is a parse error: one line, exit code 2, nothing run).
/// </summary>
public static class CliOptions
{
    /// <summary>--verbose, recursive: library log messages and the stack trace of an error.</summary>
    public static Option<bool> Verbose() => new("--verbose", "-v")
    {
        Description = "Show library log messages, and the stack trace when a command fails",
        Recursive = true,
    };

    /// <summary>A required input path option (checked to exist by <see cref="PathChecks"/> when the command runs).</summary>
    public static Option<string> Input(string name, string description, bool required = true, params string[] aliases) =>
        new(name, aliases) { Description = description, Required = required, HelpName = "path" };

    /// <summary>A required output path option (checked to be writable by <see cref="PathChecks"/> before any work).</summary>
    public static Option<string> Output(string name, string description, bool required = true, params string[] aliases) =>
        new(name, aliases) { Description = description, Required = required, HelpName = "path" };

    /// <summary>--seed (default 1): the same seed reproduces a run and is required to resume it.</summary>
    public static Option<int> Seed() => new("--seed")
    {
        Description = "Seed of initialisation, data order, masking and dropout; --resume needs the same seed",
        DefaultValueFactory = _ => 1,
    };

    private static readonly string[] Devices = { "cpu", "cuda", "auto" };

    /// <summary>--device cpu|cuda|auto (default cpu; CUDA falls back to the CPU with a warning).</summary>
    public static Option<string> Device() =>
        new Option<string>("--device") { Description = "Where to train (cuda falls back to the CPU with a warning)", DefaultValueFactory = _ => "cpu" }.OneOf(Devices);

    /// <summary>The value of a <see cref="Device()"/> option.</summary>
    public static MLNetForgetting.Runtime.DeviceOption DeviceValue(ParseResult parse, Option<string> device) =>
        Enum.Parse<MLNetForgetting.Runtime.DeviceOption>(parse.GetValue(device)!, ignoreCase: true);

    /// <summary>A numeric option with a default value.</summary>
    public static Option<T> Number<T>(string name, string description, T defaultValue, string helpName = "n") where T : struct, INumber<T> =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = helpName };

    /// <summary>An optional numeric option (null when not given).</summary>
    public static Option<T?> OptionalNumber<T>(string name, string description, string helpName = "n") where T : struct, INumber<T> =>
        new(name) { Description = description, HelpName = helpName };

    /// <summary>Rejects values below <paramref name="minimum"/>: "--k must be >= 0, got -3".</summary>
    public static Option<T> AtLeast<T>(this Option<T> option, T minimum, string? why = null) where T : struct, INumber<T>
    {
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && r.GetValueOrDefault<T>() is var v && v < minimum)
                r.AddError($"{option.Name} must be >= {minimum}{(why is null ? "" : $" ({why})")}, got {v}");
        });
        return option;
    }

    /// <summary><see cref="AtLeast{T}(Option{T}, T, string?)"/> for optional values.</summary>
    public static Option<T?> AtLeast<T>(this Option<T?> option, T minimum, string? why = null) where T : struct, INumber<T>
    {
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && r.GetValueOrDefault<T?>() is { } v && v < minimum)
                r.AddError($"{option.Name} must be >= {minimum}{(why is null ? "" : $" ({why})")}, got {v}");
        });
        return option;
    }

    /// <summary>Accepts one of <paramref name="allowed"/>, case-insensitively: "unknown --preset 'Huge'; expected Tiny, Small or Base".</summary>
    public static Option<string> OneOf(this Option<string> option, params string[] allowed)
    {
        option.Validators.Add(r =>
        {
            string? v = r.GetValueOrDefault<string>();
            if (v is not null && !allowed.Contains(v, StringComparer.OrdinalIgnoreCase))
                r.AddError($"unknown {option.Name} '{v}'; expected {Alternatives(allowed)}");
        });
        option.HelpName = string.Join("|", allowed);
        return option;
    }

    /// <summary>The value of <paramref name="allowed"/> that matches <paramref name="value"/> case-insensitively, in its canonical spelling.</summary>
    public static string Canonical(string value, params string[] allowed) =>
        allowed.First(a => a.Equals(value, StringComparison.OrdinalIgnoreCase));

    /// <summary>Fails the parse when more than one of <paramref name="options"/> is given.</summary>
    public static void AtMostOneOf(this Command command, params Option[] options)
    {
        command.Validators.Add(r =>
        {
            var given = options.Where(o => r.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToArray();
            if (given.Length > 1) r.AddError($"use only one of {string.Join(", ", given)}");
        });
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Command, string[]> ExamplesOf = new();

    /// <summary>Examples printed at the end of the command's --help (see <see cref="ExamplesHelpAction"/>).</summary>
    public static Command WithExamples(this Command command, params string[] examples)
    {
        ExamplesOf.AddOrUpdate(command, examples);
        return command;
    }

    /// <summary>The examples registered for <paramref name="command"/>, or none.</summary>
    public static IReadOnlyList<string> Examples(Command command) => ExamplesOf.TryGetValue(command, out var e) ? e : Array.Empty<string>();

    private static string Alternatives(IReadOnlyList<string> values) =>
        values.Count == 1 ? values[0] : string.Join(", ", values.Take(values.Count - 1)) + " or " + values[^1];
}
