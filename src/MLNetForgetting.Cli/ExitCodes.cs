namespace MLNetForgetting.Cli;

/// <summary>Process exit codes of <c>mlnf</c> (documented in <c>mlnf --help</c> and the README).</summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>The command started but failed: bad data, an I/O error, a diverged run, anything unexpected.</summary>
    public const int Failure = 1;

    /// <summary>The command line was wrong (unknown option, invalid value, missing input, unwritable output); nothing was run.</summary>
    public const int BadArguments = 2;

    /// <summary>Stopped by Ctrl+C / SIGTERM (128 + SIGINT, the shell convention); a checkpoint was written where the command has one.</summary>
    public const int Cancelled = 130;
}
