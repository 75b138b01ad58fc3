from everything_app.cli import main

main()
