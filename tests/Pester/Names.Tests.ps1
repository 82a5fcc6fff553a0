# Names that are not UTF-8 (issue 18, D3/D4): replicated byte for byte, shown as \#ooo (a real '\#' as \#134#), and a
# plan that shows them applies exactly those items after Export-Clixml and through the pipeline. The names are made
# and checked with sh's printf, outside PowerShell's strings.
BeforeAll {
    Import-Module $env:PSREPLICA_MODULE -Force

    # Runs a sh script with $1 = the directory; returns its output (the test fails on a non-zero exit).
    function Invoke-Sh([string] $Directory, [string] $Script) {
        $output = & /bin/sh -c $Script sh $Directory
        $LASTEXITCODE | Should -Be 0 -Because "sh: $Script"
        $output
    }

    function New-RawTree([string] $Root) {
        $null = New-Item -ItemType Directory -Path $Root
        # a<FF>, its look-alike a<U+FFFD>, a real backslash-hash name, and a directory <C3>( holding f<80>.
        Invoke-Sh $Root 'cd "$1" && printf raw > "$(printf "a\377")" && printf utf8 > "$(printf "a\357\277\275")" && printf bs > "b\\#x" && mkdir "$(printf "d\303(")" && printf inner > "$(printf "d\303(/f\200")"'
        $Root
    }
}

Describe 'Names that are not UTF-8' {
    AfterAll {
        # Remove-Item cannot open such names (PowerShell's strings are Unicode): the test drive is emptied by rm.
        & /bin/rm -rf -- (Join-Path $TestDrive 'clixml-src') (Join-Path $TestDrive 'clixml-dst') (Join-Path $TestDrive 'pipe-src') (Join-Path $TestDrive 'pipe-dst') `
            (Join-Path $TestDrive 'diff-src') (Join-Path $TestDrive 'diff-ours') (Join-Path $TestDrive 'diff-rsync')
    }

    It 'are shown as \#ooo, a real \# as \#134#, and a plan saved with Export-Clixml applies them byte for byte' {
        $src = New-RawTree (Join-Path $TestDrive 'clixml-src')
        $dst = Join-Path $TestDrive 'clixml-dst'
        $plan = Get-SyncPlan -Path $src -Destination $dst
        @($plan.RelativePath | Sort-Object) | Should -Be (@('.', 'a\#377', "a$([char]0xFFFD)", 'b\#134#x', 'd\#303(', 'd\#303(/f\#200') | Sort-Object)
        $file = Join-Path $TestDrive 'plan.xml'
        $plan | Export-Clixml -LiteralPath $file

        $done = Sync-Directory -Plan (Import-Clixml -LiteralPath $file) -ErrorAction Stop

        @($done | Where-Object ItemType -eq 'File').Count | Should -Be 4
        Invoke-Sh $dst 'cd "$1" && cat "$(printf "a\377")" "$(printf "a\357\277\275")" "b\\#x" "$(printf "d\303(/f\200")"' | Should -Be 'rawutf8bsinner'
        @(Get-SyncPlan -Path $src -Destination $dst) | Should -BeNullOrEmpty
    }

    It 'give the same destination bytes as rsync -a (names, contents, link targets)' {
        $src = New-RawTree (Join-Path $TestDrive 'diff-src')
        Invoke-Sh $src 'cd "$1" && ln -s "$(printf "a\377")" "$(printf "l\376")"'
        # 250 bytes, a legal name: read back through a UTF-8 round trip it grew past NAME_MAX and stopped the whole run.
        Invoke-Sh $src 'cd "$1" && printf long > "$(printf "a%.0s" $(seq 200))$(printf "\377%.0s" $(seq 50))"'
        $ours = Join-Path $TestDrive 'diff-ours'
        $theirs = Join-Path $TestDrive 'diff-rsync'
        $null = Sync-Directory -Path $src -Destination $ours -ErrorAction Stop
        & rsync -a "$src/" "$theirs/"
        $LASTEXITCODE | Should -Be 0
        # Every name, type, link target and content as bytes (od), in byte order.
        $describe = 'cd "$1" && find . | LC_ALL=C sort | while IFS= read -r p; do printf "%s|" "$p" | od -An -tx1; if [ -L "$p" ]; then readlink "$p" | od -An -tx1; elif [ -f "$p" ]; then od -An -tx1 "$p"; fi; done'
        $want = Invoke-Sh $theirs $describe
        @(Invoke-Sh $ours $describe) | Should -Be @($want)
        @($want).Count | Should -BeGreaterThan 10
    }

    It 'go through Get-SyncPlan | Sync-Directory and a -Delete of an extraneous one' {
        $src = New-RawTree (Join-Path $TestDrive 'pipe-src')
        $dst = Join-Path $TestDrive 'pipe-dst'
        $null = New-Item -ItemType Directory -Path $dst
        Invoke-Sh $dst 'printf x > "$1/$(printf "x\201")"'

        $done = Get-SyncPlan -Path $src -Destination $dst -Delete | Sync-Directory -ErrorAction Stop

        @($done | Where-Object Action -eq 'Delete').RelativePath | Should -Be 'x\#201'
        Invoke-Sh $dst 'cd "$1" && cat "$(printf "a\377")" && ! test -e "$(printf "x\201")"' | Should -Be 'raw'
        @(Get-SyncPlan -Path $src -Destination $dst -Delete) | Should -BeNullOrEmpty
    }
}
