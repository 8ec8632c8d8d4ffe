namespace MLNetForgetting.Persistence;

/// <summary>
/// Writes files so that a crash or kill midway never leaves a half-written file in place of a good
/// one: the content goes to a temporary file in the same folder, is flushed to disk, and is then
/// renamed over the target (rename is atomic within one file system).
/// </summary>
public static class AtomicFile
{
    /// <summary>Test hook: when set, called after the temporary file is written and before the rename.</summary>
    internal static Action<string>? BeforeRename;

    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            BeforeRename?.Invoke(tmp);
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));
}
