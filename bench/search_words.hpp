// Word lists for search_bench's generated corpus (issue 13): one per language, space-separated
// here; search_bench joins Chinese, Japanese, Korean and Thai words without spaces, as real text
// is written. Content words only (no English stop words, which PostgreSQL's English configuration
// drops, so that the side-by-side compares scripts, not stop lists). Earlier words are drawn more
// often (a Zipf distribution over the list's order).
#pragma once

namespace search_bench {

struct language {
  const char* code;
  bool spaced;  // words separated by spaces
  const char* words;
};

inline constexpr language languages[] = {
    {"en", true,
     "meeting project deploy server release weekend coffee lunch dinner office budget report "
     "customer invoice schedule deadline ticket database backup network password laptop printer "
     "garden kitchen window holiday airport station journey bicycle mountain river forest island "
     "summer winter autumn spring morning evening tonight tomorrow yesterday birthday wedding "
     "football concert theatre museum library hospital doctor teacher student market bakery "
     "pizza pasta salad sandwich chocolate banana orange lemon cherry strawberry potato tomato "
     "chicken salmon cheese butter bread cookie pancake breakfast picnic camping fishing hiking "
     "guitar piano violin drummer singer painter writer editor manager engineer designer "
     "keyboard monitor screen camera phone message channel thread answer question problem "
     "solution feature bugfix refactor benchmark latency throughput storage memory processor "
     "compiler debugger terminal editor browser website download upload update upgrade "
     "invite welcome congratulations thanks sorry awesome brilliant terrible amazing lovely "
     "quiet noisy sunny rainy cloudy windy snowy frozen purple yellow silver golden orange "
     "elephant giraffe penguin dolphin tiger rabbit turtle kitten puppy parrot zebra koala "
     "rocket planet galaxy telescope satellite volcano desert glacier canyon harbour lighthouse "
     "recipe ingredient oven blender teapot kettle umbrella backpack suitcase passport visa"},
    {"de", true,
     "Besprechung Projekt Termin Wochenende Kaffee Mittagessen Abendessen Büro Rechnung Kunde "
     "Bericht Zeitplan Frist Datenbank Sicherung Netzwerk Passwort Drucker Garten Küche Fenster "
     "Urlaub Flughafen Bahnhof Reise Fahrrad Gebirge Fluss Wald Insel Sommer Winter Herbst "
     "Frühling Morgen Abend heute morgen gestern Geburtstag Hochzeit Fußball Konzert Theater "
     "Museum Bibliothek Krankenhaus Arzt Lehrer Schüler Markt Bäckerei Brötchen Kuchen Salat "
     "Schokolade Banane Zitrone Kirsche Erdbeere Kartoffel Tomate Hähnchen Lachs Käse Butter "
     "Brot Frühstück Ausflug Wanderung Gitarre Klavier Geige Sänger Maler Schriftsteller "
     "Straße Straßenbahn Gemüse Öffnungszeiten Übersetzung Änderung Größe Qualität Lösung "
     "Aufgabe Frage Antwort Problem Fehler Verbesserung Leistung Speicher Rechner Bildschirm "
     "Tastatur Kamera Handy Nachricht Gruppe Einladung Glückwunsch Entschuldigung wunderbar "
     "schrecklich großartig ruhig laut sonnig regnerisch bewölkt windig verschneit gefroren "
     "Elefant Giraffe Pinguin Delfin Tiger Kaninchen Schildkröte Kätzchen Welpe Papagei "
     "Rakete Planet Galaxie Fernrohr Vulkan Wüste Gletscher Leuchtturm Hafen Rezept Zutat "
     "Backofen Wasserkocher Regenschirm Rucksack Koffer Reisepass Führerschein Versicherung "
     "Krankenkasse Steuererklärung Kündigung Vertrag Miete Nebenkosten Heizung Mülltonne "
     "Nachbar Vermieter Handwerker Schlüssel Briefkasten Paket Lieferung Bestellung Umtausch "
     "Gemütlichkeit Feierabend Stammtisch Weihnachtsmarkt Glühwein Brezel Sauerkraut Spätzle"},
    {"ru", true,
     "встреча проект сервер выпуск выходные кофе обед ужин офис бюджет отчёт клиент счёт "
     "расписание срок задача база резервная сеть пароль ноутбук принтер сад кухня окно отпуск "
     "аэропорт вокзал путешествие велосипед гора река лес остров лето зима осень весна утро "
     "вечер сегодня завтра вчера день рождения свадьба футбол концерт театр музей библиотека "
     "больница врач учитель студент рынок пекарня пирог салат шоколад банан лимон вишня "
     "клубника картошка помидор курица лосось сыр масло хлеб печенье блины завтрак пикник "
     "поход рыбалка гитара пианино скрипка певец художник писатель редактор менеджер инженер "
     "клавиатура монитор экран камера телефон сообщение канал вопрос ответ проблема решение "
     "ошибка исправление скорость память процессор компилятор терминал браузер сайт загрузка "
     "обновление приглашение поздравляю спасибо извини отлично ужасно прекрасно тихо шумно "
     "солнечно дождливо облачно ветрено снежно мороз фиолетовый жёлтый серебряный золотой "
     "слон жираф пингвин дельфин тигр кролик черепаха котёнок щенок попугай зебра медведь "
     "ракета планета галактика телескоп спутник вулкан пустыня ледник каньон гавань маяк "
     "рецепт ингредиент духовка блендер чайник зонтик рюкзак чемодан паспорт виза ёлка "
     "квартира соседи ремонт ключи посылка доставка заказ договор аренда отопление дача "
     "электричка метро автобус такси пробка погода праздник подарок новости работа"},
    {"ar", true,
     "اجتماع مشروع خادم إصدار عطلة قهوة غداء عشاء مكتب ميزانية تقرير عميل فاتورة جدول موعد "
     "قاعدة شبكة كلمة حاسوب طابعة حديقة مطبخ نافذة إجازة مطار محطة رحلة دراجة جبل نهر غابة "
     "جزيرة صيف شتاء خريف ربيع صباح مساء اليوم غدا أمس عيد ميلاد زفاف كرة حفلة مسرح متحف "
     "مكتبة مستشفى طبيب معلم طالب سوق مخبز كعكة سلطة شوكولاتة موز ليمون كرز فراولة بطاطس "
     "طماطم دجاج سلمون جبن زبدة خبز فطور نزهة تخييم صيد مشي قيثارة بيانو كمان مغني رسام "
     "كاتب محرر مدير مهندس مصمم لوحة شاشة كاميرا هاتف رسالة قناة سؤال جواب مشكلة حل خطأ "
     "إصلاح سرعة ذاكرة معالج متصفح موقع تنزيل تحديث دعوة مرحبا تهانينا شكرا آسف رائع فظيع "
     "جميل هادئ صاخب مشمس ممطر غائم عاصف ثلج متجمد بنفسجي أصفر فضي ذهبي فيل زرافة بطريق "
     "دلفين نمر أرنب سلحفاة قطة جرو ببغاء حمار صاروخ كوكب مجرة تلسكوب قمر بركان صحراء "
     "منارة ميناء وصفة فرن إبريق مظلة حقيبة جواز تأشيرة شقة جيران مفتاح طرد توصيل طلب "
     "عقد إيجار تدفئة قطار حافلة سيارة طقس هدية أخبار عمل صديق عائلة مدرسة جامعة امتحان"},
    {"zh", false,
     "会议 项目 服务器 发布 周末 咖啡 午饭 晚饭 办公室 预算 报告 客户 发票 日程 截止 数据库 "
     "备份 网络 密码 电脑 打印机 花园 厨房 窗户 假期 机场 车站 旅行 自行车 山 河 森林 岛 "
     "夏天 冬天 秋天 春天 早上 晚上 今天 明天 昨天 生日 婚礼 足球 音乐会 剧院 博物馆 "
     "图书馆 医院 医生 老师 学生 市场 面包 蛋糕 沙拉 巧克力 香蕉 柠檬 樱桃 草莓 土豆 "
     "西红柿 鸡肉 三文鱼 奶酪 黄油 早饭 野餐 钓鱼 爬山 吉他 钢琴 小提琴 歌手 画家 作家 "
     "经理 工程师 设计师 键盘 屏幕 相机 手机 消息 频道 问题 答案 办法 错误 修复 速度 "
     "内存 浏览器 网站 下载 更新 邀请 欢迎 恭喜 谢谢 对不起 太好了 安静 热闹 晴天 下雨 "
     "多云 刮风 下雪 紫色 黄色 银色 金色 大象 长颈鹿 企鹅 海豚 老虎 兔子 乌龟 小猫 小狗 "
     "鹦鹉 火箭 星球 银河 望远镜 卫星 火山 沙漠 冰川 灯塔 港口 菜谱 烤箱 茶壶 雨伞 背包 "
     "行李箱 护照 签证 北京 上海 广州 深圳 房子 邻居 钥匙 快递 外卖 合同 房租 地铁 公交 "
     "出租车 天气 礼物 新闻 工作 朋友 家人 学校 大学 考试 周末愉快 加班 开会 吃饭 睡觉"},
    {"ja", false,
     "会議 プロジェクト サーバー リリース 週末 コーヒー 昼ご飯 晩ご飯 事務所 予算 報告 "
     "お客様 請求書 予定 締め切り データベース バックアップ ネットワーク パスワード パソコン "
     "プリンター 庭 台所 窓 休み 空港 駅 旅行 自転車 山 川 森 島 夏 冬 秋 春 朝 夜 今日 "
     "明日 昨日 誕生日 結婚式 サッカー コンサート 劇場 博物館 図書館 病院 医者 先生 学生 "
     "市場 パン屋 ケーキ サラダ チョコレート バナナ レモン さくらんぼ いちご じゃがいも "
     "トマト 鶏肉 鮭 チーズ バター 朝ご飯 ピクニック キャンプ 釣り 登山 ギター ピアノ "
     "バイオリン 歌手 画家 作家 部長 技術者 デザイナー キーボード 画面 カメラ 携帯 "
     "メッセージ チャンネル 質問 答え 問題 解決 バグ 修正 速度 メモリ ブラウザ ダウンロード "
     "更新 招待 ようこそ おめでとう ありがとう ごめんなさい すごい 静か にぎやか 晴れ 雨 "
     "曇り 風 雪 紫 黄色 銀色 金色 象 キリン ペンギン イルカ 虎 うさぎ 亀 子猫 子犬 "
     "オウム ロケット 惑星 銀河 望遠鏡 衛星 火山 砂漠 氷河 灯台 港 レシピ オーブン "
     "やかん 傘 リュック スーツケース パスポート ビザ 東京 大阪 京都 札幌 部屋 近所 鍵 "
     "荷物 配達 注文 契約 家賃 電車 地下鉄 タクシー 天気 お土産 ニュース 仕事 友達 家族 "
     "学校 大学 試験 残業 ラーメン 寿司 お弁当 おにぎり 温泉 花見 紅葉 よろしく"},
    {"ko", false,
     "회의 프로젝트 서버 출시 주말 커피 점심 저녁 사무실 예산 보고서 고객 청구서 일정 "
     "마감 데이터베이스 백업 네트워크 비밀번호 노트북 프린터 정원 부엌 창문 휴가 공항 역 "
     "여행 자전거 산 강 숲 섬 여름 겨울 가을 봄 아침 밤 오늘 내일 어제 생일 결혼식 축구 "
     "콘서트 극장 박물관 도서관 병원 의사 선생님 학생 시장 빵집 케이크 샐러드 초콜릿 "
     "바나나 레몬 체리 딸기 감자 토마토 닭고기 연어 치즈 버터 아침밥 소풍 캠핑 낚시 "
     "등산 기타 피아노 바이올린 가수 화가 작가 부장 엔지니어 디자이너 키보드 화면 카메라 "
     "핸드폰 메시지 채널 질문 대답 문제 해결 버그 수정 속도 메모리 브라우저 다운로드 "
     "업데이트 초대 환영 축하 감사 미안 대박 조용 시끄러움 맑음 비 흐림 바람 눈 보라색 "
     "노란색 은색 금색 코끼리 기린 펭귄 돌고래 호랑이 토끼 거북이 고양이 강아지 앵무새 "
     "로켓 행성 은하 망원경 위성 화산 사막 빙하 등대 항구 요리법 오븐 주전자 우산 배낭 "
     "여행가방 여권 비자 서울 부산 제주도 인천 아파트 이웃 열쇠 택배 배달 주문 계약 "
     "월세 지하철 버스 택시 날씨 선물 뉴스 일 친구 가족 학교 대학교 시험 야근 김치 "
     "비빔밥 불고기 떡볶이 라면 치킨 맥주 소주 노래방 찜질방 편의점 카페 수고"},
    {"th", false,
     "ประชุม โครงการ เซิร์ฟเวอร์ วันหยุด กาแฟ อาหารกลางวัน อาหารเย็น สำนักงาน งบประมาณ "
     "รายงาน ลูกค้า ใบแจ้งหนี้ ตาราง กำหนดส่ง ฐานข้อมูล เครือข่าย รหัสผ่าน คอมพิวเตอร์ "
     "เครื่องพิมพ์ สวน ห้องครัว หน้าต่าง สนามบิน สถานี การเดินทาง จักรยาน ภูเขา แม่น้ำ ป่า "
     "เกาะ ฤดูร้อน ฤดูหนาว ฤดูฝน ตอนเช้า ตอนเย็น วันนี้ พรุ่งนี้ เมื่อวาน วันเกิด งานแต่งงาน "
     "ฟุตบอล คอนเสิร์ต โรงละคร พิพิธภัณฑ์ ห้องสมุด โรงพยาบาล หมอ ครู นักเรียน ตลาด ขนมปัง "
     "เค้ก สลัด ช็อกโกแลต กล้วย มะนาว สตรอว์เบอร์รี มันฝรั่ง มะเขือเทศ ไก่ ปลาแซลมอน เนย "
     "อาหารเช้า ปิกนิก ตกปลา กีตาร์ เปียโน ไวโอลิน นักร้อง จิตรกร นักเขียน ผู้จัดการ วิศวกร "
     "นักออกแบบ คีย์บอร์ด หน้าจอ กล้อง โทรศัพท์ ข้อความ คำถาม คำตอบ ปัญหา วิธีแก้ ความเร็ว "
     "หน่วยความจำ เว็บไซต์ ดาวน์โหลด อัปเดต เชิญ ยินดีต้อนรับ ยินดีด้วย ขอบคุณ ขอโทษ ยอดเยี่ยม "
     "เงียบ เสียงดัง แดดออก ฝนตก เมฆมาก ลมแรง หิมะ สีม่วง สีเหลือง สีเงิน สีทอง ช้าง ยีราฟ "
     "เพนกวิน โลมา เสือ กระต่าย เต่า ลูกแมว ลูกสุนัข นกแก้ว จรวด ดาวเคราะห์ กาแล็กซี "
     "กล้องโทรทรรศน์ ดาวเทียม ภูเขาไฟ ทะเลทราย ประภาคาร ท่าเรือ สูตรอาหาร เตาอบ กาน้ำ ร่ม "
     "กระเป๋าเป้ กระเป๋าเดินทาง หนังสือเดินทาง วีซ่า กรุงเทพ เชียงใหม่ ภูเก็ต คอนโด เพื่อนบ้าน "
     "กุญแจ พัสดุ ส่งของ สั่งซื้อ สัญญา ค่าเช่า รถไฟฟ้า รถเมล์ แท็กซี่ อากาศ ของขวัญ ข่าว "
     "งาน เพื่อน ครอบครัว โรงเรียน มหาวิทยาลัย สอบ ต้มยำ ส้มตำ ผัดไทย ข้าวเหนียว มะม่วง"},
    // Emoji: added to messages of every language, after a space or right after a word; with
    // skin tones, variation selectors, ZWJ sequences and flags.
    {"emoji", true,
     "😀 😂 🤣 😍 😘 😎 🤔 😴 😭 😡 👍 👎 👏 🙏 💪 🎉 🎂 🎁 🔥 ✨ ⭐ 🌟 ☀️ 🌧️ ❄️ ⚡ 🍕 🍣 🍜 "
     "☕ 🍺 🍷 🚀 ✈️ 🚲 🏠 💻 📱 📷 🐱 🐶 🐼 🦊 🌸 🌈 ❤️ 💙 💚 👍🏽 👋🏻 🙌🏿 👨‍💻 👩‍🚀 "
     "👨‍👩‍👧 🏳️‍🌈 🇩🇪 🇯🇵 🇹🇭 ✅ ❌"},
};

}  // namespace search_bench
