fn main() {
    let p = std::env::args().nth(1).unwrap();
    let r = cratedigger_audio::verify_file(std::path::Path::new(&p), &Default::default());
    println!("{}", serde_json::to_string_pretty(&r.map_err(|e| e.to_string())).unwrap());
}
