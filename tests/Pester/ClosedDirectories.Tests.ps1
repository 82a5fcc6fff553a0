# Issue 18 D5 for a local run: as a non-root user, a destination directory with mode 0555 in both trees converges on
# the first run (it is opened for its owner while the run works in it, and gets its mode back), the second run has
# nothing to do, and rsync -a run side by side by the same user ends the same way. Root writes anywhere, so the run is
# a child pwsh started as the unprivileged user nobody (runuser). That user cannot reach the test's PowerShell or the
# module where they may lie (under /root on CI), so both are linked (cp -al, copied when linking is refused) into the
# test's directory. The agent's side of the same fix is tested in ClosedDirectoriesTests (xunit).
BeforeAll {
    $script:WorkRoot = Join-Path ([System.IO.Path]::GetTempPath()) "psreplica-closed-$([guid]::NewGuid().ToString('n'))"
    $null = New-Item -ItemType Directory -Path $script:WorkRoot
    & chmod 755 $script:WorkRoot

    # A private copy the user can read: hard links where the file system allows them (instant), else a copy.
    function Copy-Readable([string] $From, [string] $To) {
        & cp -al -- $From $To 2>$null
        if ($LASTEXITCODE -ne 0) {
            if (Test-Path -LiteralPath $To) { Remove-Item -LiteralPath $To -Recurse -Force }
            & cp -a -- $From $To
            if ($LASTEXITCODE -ne 0) { throw "cannot copy '$From' to '$To'" }
        }
    }

    $script:Shell = Join-Path $script:WorkRoot 'pwsh'
    Copy-Readable $PSHOME $script:Shell
    $script:Module = Join-Path $script:WorkRoot 'module'
    Copy-Readable (Split-Path $env:PSREPLICA_MODULE) $script:Module
    $script:Manifest = Join-Path $script:Module (Split-Path $env:PSREPLICA_MODULE -Leaf)

    # Runs $Command in pwsh as nobody; returns its output lines (errors as 'ERROR <id>').
    function Invoke-AsUser([string] $Command) {
        $script = "`$ErrorActionPreference = 'Continue'; Import-Module '$script:Manifest'; $Command"
        $output = & runuser -u nobody -- env "HOME=$script:WorkRoot" "DOTNET_CLI_HOME=$script:WorkRoot" DOTNET_CLI_TELEMETRY_OPTOUT=1 `
            dotnet exec (Join-Path $script:Shell 'pwsh.dll') -NoProfile -NonInteractive -Command $script 2>&1
        if ($LASTEXITCODE -ne 0) { throw "the child pwsh failed ($LASTEXITCODE): $output" }
        $output
    }

    function Write-TestFile([string] $Path, [string] $Text) {
        $parent = Split-Path $Path
        if (-not (Test-Path -LiteralPath $parent)) { $null = New-Item -ItemType Directory -Path $parent }
        [System.IO.File]::WriteAllText($Path, $Text)
        & touch -d '2026-01-01 10:00:00' -- $Path
    }

    function Get-Mode([string] $Path) { (& stat -c '%a' -- $Path) }
}

AfterAll {
    if ($script:WorkRoot -and (Test-Path -LiteralPath $script:WorkRoot)) { & rm -rf -- $script:WorkRoot }
}

Describe 'A destination directory its owner cannot write (non-root)' {
    It 'converges on the first run, has nothing to do on the second, and stays 0555, as with rsync -a' {
        $case = Join-Path $script:WorkRoot 'case'
        $src = Join-Path $case 'src'
        foreach ($tree in 'src', 'dst', 'rsync') {
            $root = Join-Path $case $tree
            if ($tree -eq 'src') {
                Write-TestFile (Join-Path $root 'ro/changed.txt') 'new content'
                Write-TestFile (Join-Path $root 'ro/new.txt') 'new'
            }
            else {
                Write-TestFile (Join-Path $root 'ro/changed.txt') 'old'
                Write-TestFile (Join-Path $root 'ro/extraneous.txt') 'x'
            }
            & touch -d '2026-01-02 10:00:00' -- (Join-Path $root 'ro/changed.txt')
            # The trees were written apart, maybe in different seconds: their directories get one time, so that only the
            # files differ (the root's and ro's Metadata items are not this test's).
            & touch -d '2026-01-03 00:00:00' -- (Join-Path $root 'ro') $root
            & chmod 555 (Join-Path $root 'ro')
        }
        & chown -R nobody: $case
        & chmod 755 $case

        $dst = Join-Path $case 'dst'
        $first = Invoke-AsUser "Sync-Directory -Path '$src' -Destination '$dst' -Delete -ErrorVariable e -ErrorAction SilentlyContinue | ForEach-Object { 'ITEM ' + `$_.RelativePath }; `$e | ForEach-Object { 'ERROR ' + `$_.FullyQualifiedErrorId }"
        $second = Invoke-AsUser "Sync-Directory -Path '$src' -Destination '$dst' -Delete -ErrorVariable e -ErrorAction SilentlyContinue | ForEach-Object { 'ITEM ' + `$_.RelativePath }; `$e | ForEach-Object { 'ERROR ' + `$_.FullyQualifiedErrorId }"
        $null = & runuser -u nobody -- rsync -a --delete "$src/" (Join-Path $case 'rsync') 2>&1
        $rsyncExit = $LASTEXITCODE

        $first | Where-Object { $_ -like 'ERROR *' } | Should -BeNullOrEmpty
        ($first | Where-Object { $_ -like 'ITEM *' } | Sort-Object) | Should -Be @('ITEM ro/changed.txt', 'ITEM ro/extraneous.txt', 'ITEM ro/new.txt')
        $second | Should -BeNullOrEmpty
        Get-Mode (Join-Path $dst 'ro') | Should -Be '555'
        (Get-ChildItem -LiteralPath (Join-Path $dst 'ro') -Name | Sort-Object) | Should -Be @('changed.txt', 'new.txt')
        Get-Content -Raw -LiteralPath (Join-Path $dst 'ro/changed.txt') | Should -Be 'new content'
        $rsyncExit | Should -Be 0
        Get-Mode (Join-Path $case 'rsync/ro') | Should -Be '555'
        (Get-ChildItem -LiteralPath (Join-Path $case 'rsync/ro') -Name | Sort-Object) | Should -Be @('changed.txt', 'new.txt')
    }
}
